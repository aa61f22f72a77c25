"""An employee acts for the organisation's client in the portal, and stops at the next request when
the access, the membership or the power of attorney ends."""

import pytest
from django.urls import reverse

from attorney import services as attorney_services
from organisations import services

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def bo_access(client_mandate, bo_member, anne):
    return attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )


@pytest.fixture
def acting(client, login, bo, karen, bo_access, settings):
    login(client, bo)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    return client


def test_the_banner_names_the_employee_and_the_organisation(acting):
    text = text_of(acting.get(reverse("authorities:inbox")))
    assert "Bo Bogholder, you are acting for Karen Jensen on behalf of Revisorhuset A/S" in text


def test_what_the_employee_does_records_the_organisation(acting, skat_letter, karen):
    from portal.models import AuditEvent

    acting.get(reverse("authorities:letter", args=[skat_letter.pk]))
    read = AuditEvent.objects.get(action="letter.read", principal=karen)
    assert read.details["organisations"] == [{"cvr": "12345674", "name": "Revisorhuset A/S"}]
    assert read.details["basis"] == ["power_of_attorney"]


def test_removing_access_ends_the_acting_with_the_reason(acting, anne, bo_access):
    attorney_services.remove_organisation_access(acting_user=anne, access=bo_access)
    text = text_of(acting.get(reverse("authorities:inbox"), follow=True))
    assert "You are no longer acting for Karen Jensen." in text
    assert "you have no access to it" in text


def test_leaving_the_organisation_ends_the_acting(acting, anne, bo_member):
    services.end_membership(acting_user=anne, membership=bo_member)
    text = text_of(acting.get(reverse("authorities:inbox"), follow=True))
    assert "You are no longer acting for Karen Jensen." in text
    assert "on behalf of Revisorhuset" not in text


def test_the_client_revoking_ends_the_acting(acting, karen, client_mandate):
    attorney_services.revoke(power_of_attorney=client_mandate, acting_user=karen)
    text = text_of(acting.get(reverse("authorities:inbox"), follow=True))
    assert "You are no longer acting for Karen Jensen. Your power of attorney has been ended." in text
