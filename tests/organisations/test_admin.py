"""Caseworkers find organisations by CVR number or name, see their members, and register an
organisation with its first administrator through the service."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from organisations.models import Membership, Organisation, Role
from portal.models import AuditEvent, OutboundEmail

from ..authorities.test_admin import TOTP_SECRET, admin_as, make_caseworker
from ..factories import UserFactory
from .conftest import REVISOR_CVR, REVISOR_NAME

pytestmark = pytest.mark.django_db

REGISTER = "admin:organisations_organisation_register"
CHANGELIST = "admin:organisations_organisation_changelist"


@pytest.fixture
def caseworker(skat):
    return make_caseworker(skat, email="sagsbehandler@skat.dk")


def form_data(**changes) -> dict:
    return {
        "cvr": "DK 12 34 56 74",
        "name": REVISOR_NAME,
        "administrator_national_id": "120880-4567",
        "administrator_name": "Anne Revisor",
        "administrator_email": "anne@revisorhuset.dk",
        "checked_in_register": "on",
    } | changes


def test_a_caseworker_registers_an_organisation_and_its_first_administrator(
    client, caseworker, run_on_commit
):
    admin_as(client, caseworker)
    assert client.get(reverse(REGISTER)).status_code == 200
    with run_on_commit():
        response = client.post(reverse(REGISTER), form_data())
    organisation = Organisation.objects.get()
    assert response["Location"] == reverse("admin:organisations_organisation_change", args=[organisation.pk])
    assert (organisation.cvr, organisation.name, organisation.registered_by) == (
        REVISOR_CVR,
        REVISOR_NAME,
        caseworker,
    )
    [invitation] = Membership.objects.filter(organisation=organisation)
    assert (invitation.role, invitation.invited_national_id, invitation.user) == (
        Role.ADMINISTRATOR,
        "1208804567",
        None,
    )
    assert OutboundEmail.objects.filter(recipient="anne@revisorhuset.dk").exists()
    assert AuditEvent.objects.filter(action="organisation.registered", actor=caseworker).exists()


def test_the_add_button_leads_to_the_registration(client, caseworker):
    admin_as(client, caseworker)
    response = client.get(reverse("admin:organisations_organisation_add"))
    assert response["Location"] == reverse(REGISTER)
    assert reverse(REGISTER) in client.get(reverse(CHANGELIST)).content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cvr": "12345675"}, "cvr"),
        ({"cvr": "1234"}, "cvr"),
        ({"administrator_national_id": "3213999999"}, "administrator_national_id"),
        ({"administrator_email": "not-an-address"}, "administrator_email"),
        ({"name": ""}, "name"),
        ({"checked_in_register": ""}, "checked_in_register"),
    ],
)
def test_bad_input_shows_an_error_and_registers_nothing(client, caseworker, changes, field):
    admin_as(client, caseworker)
    response = client.post(reverse(REGISTER), form_data(**changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Organisation.objects.exists()
    assert not Membership.objects.exists()


def test_a_cvr_number_already_registered_is_refused_on_its_field(client, caseworker, revisorhuset):
    admin_as(client, caseworker)
    response = client.post(reverse(REGISTER), form_data(name="Et andet navn"))
    assert response.context["form"].errors["cvr"]
    assert Organisation.objects.count() == 1


def test_a_staff_member_without_the_permission_cannot_register(client):
    staff = UserFactory(is_staff=True, national_id=None)
    TOTP.activate(staff, TOTP_SECRET)
    admin_as(client, staff)
    assert client.get(reverse(REGISTER)).status_code == 403
    assert client.post(reverse(REGISTER), form_data()).status_code == 403
    assert not Organisation.objects.exists()


def test_a_citizen_cannot_reach_the_registration(client, karen):
    client.force_login(karen)
    response = client.post(reverse(REGISTER), form_data())
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Organisation.objects.exists()


@pytest.mark.parametrize("term", ["12 34 56 74", "DK12345674", "revisorhuset"])
def test_organisations_are_found_by_cvr_number_however_typed_or_by_name(
    client, caseworker, revisorhuset, advokathuset, term
):
    admin_as(client, caseworker)
    response = client.get(reverse(CHANGELIST), {"q": term})
    assert [o.pk for o in response.context["cl"].result_list] == [revisorhuset.pk]


def test_the_members_are_shown_and_nothing_can_be_changed(client, caseworker, revisorhuset, bo_member):
    admin_as(client, caseworker)
    address = reverse("admin:organisations_organisation_change", args=[revisorhuset.pk])
    response = client.get(address)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Anne Revisor" in html and "Bo Bogholder" in html
    assert 'name="_save"' not in html
    client.post(address, {"name": "Nyt navn"})
    revisorhuset.refresh_from_db()
    assert revisorhuset.name == REVISOR_NAME
    delete = client.post(
        reverse("admin:organisations_organisation_delete", args=[revisorhuset.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert Organisation.objects.filter(pk=revisorhuset.pk).exists()
