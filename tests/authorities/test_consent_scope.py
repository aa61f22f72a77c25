"""An attorney acting for someone sees and answers only the consents their acting right covers."""

import datetime

import pytest
from django.urls import reverse

from attorney import services as attorney_services
from authorities.consent import selectors, services
from authorities.models import Consent, ConsentRequestStatus, ConsentStatus, DataCategory

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory

pytestmark = pytest.mark.django_db

KAREN = "0102451234"


@pytest.fixture
def income(skat):
    return DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income", max_days=365
    )


@pytest.fixture
def kommune_consent_right(kommune):
    return RightFactory(
        service=ServiceFactory(authority=kommune, slug="samtykke"), code="kobenhavns-kommune.consent"
    )


@pytest.fixture
def skat_consent_right(skat):
    return RightFactory(service=ServiceFactory(authority=skat, slug="samtykke"), code="skat.consent")


def ask(authority, category, purpose="Formål", *, citizen_national_id=KAREN):
    """The authority asks the citizen (Karen unless told) for consent to use the category."""
    return services.request_consent(
        authority=authority,
        citizen_national_id=citizen_national_id,
        category=category,
        purpose_da=purpose,
        purpose_en=purpose,
        days=30,
    )


@pytest.fixture
def kommune_request(kommune, income, karen):
    return ask(kommune, income, "Kommunens formål")


@pytest.fixture
def kommune_consent(kommune, income, karen):
    return services.grant_consent(
        consent_request=ask(kommune, income, "Givet til kommunen"), acting_user=karen, principal=karen
    )


@pytest.fixture
def skat_request(skat, income, karen):
    return ask(skat, income, "Skats formål")


@pytest.fixture
def skat_consent(skat, income, karen):
    return services.grant_consent(
        consent_request=ask(skat, income, "Givet til skat"), acting_user=karen, principal=karen
    )


@pytest.fixture
def acting(client, login, karen, peter):
    """Peter logged in and acting for Karen, with the mandates the test has given him."""

    def _acting(*rights, days=365):
        mandate = attorney_services.accept(
            power_of_attorney=grant(karen, peter, list(rights), days=days), acting_user=peter
        )
        login(client, peter)
        client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
        return mandate

    return _acting


def consents_page(client):
    response = client.get(reverse("authorities:consents"))
    assert response.status_code == 200
    return response


def shown(response):
    context = response.context
    return {
        "pending": {r.pk for r in context["pending"]},
        "in_force": {c.pk for c in context["in_force"]},
        "history": {c.pk for c in context["history"]},
        "refused": {r.pk for r in context["refused"]},
    }


def answer(client, consent_request, value="grant"):
    return client.post(reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": value})


def withdraw_page(client, consent):
    return client.get(reverse("authorities:consent_withdraw", args=[consent.pk]))


def withdraw(client, consent):
    return client.post(reverse("authorities:consent_withdraw", args=[consent.pk]))


# --- the happy path --------------------------------------------------------------------------------


def test_karen_sees_all_her_consents(client, login, karen, kommune_request, kommune_consent, skat_consent):
    login(client, karen)
    seen = shown(consents_page(client))
    assert seen["pending"] == {kommune_request.pk}
    assert seen["in_force"] == seen["history"] == {kommune_consent.pk, skat_consent.pk}


def test_attorney_with_the_consent_right_sees_that_authoritys_consents(
    client, acting, read_mail, kommune_consent_right, kommune_request, kommune_consent, skat_consent
):
    acting(read_mail, kommune_consent_right)
    seen = shown(consents_page(client))
    assert seen["pending"] == {kommune_request.pk}
    assert seen["in_force"] == seen["history"] == {kommune_consent.pk}


def test_attorney_with_the_consent_right_answers_and_withdraws(
    client, acting, peter, kommune_consent_right, kommune_request, kommune_consent
):
    acting(kommune_consent_right)
    assert answer(client, kommune_request).status_code == 302
    assert Consent.objects.get(request=kommune_request).given_by == peter
    assert withdraw_page(client, kommune_consent).status_code == 200
    assert withdraw(client, kommune_consent).status_code == 302
    kommune_consent.refresh_from_db()
    assert (kommune_consent.status, kommune_consent.ended_by) == (ConsentStatus.WITHDRAWN, peter)


def test_a_refused_request_shows_in_the_history_of_an_attorney_who_may_see_it(
    client, acting, karen, kommune_consent_right, kommune_request
):
    services.refuse_consent(consent_request=kommune_request, acting_user=karen, principal=karen)
    acting(kommune_consent_right)
    assert shown(consents_page(client))["refused"] == {kommune_request.pk}


# --- denial paths ----------------------------------------------------------------------------------


def test_attorney_without_any_consent_right_sees_nothing_and_is_told_why(
    client, acting, karen, read_mail, kommune_request, kommune_consent, skat_consent
):
    acting(read_mail)
    response = consents_page(client)
    assert shown(response) == {"pending": set(), "in_force": set(), "history": set(), "refused": set()}
    page = response.content.decode()
    assert "does not cover consents" in page or "dækker ikke samtykker" in page
    assert "Kommunens formål" not in page and "Givet til" not in page


def test_attorney_without_any_consent_right_cannot_answer_or_withdraw(
    client, acting, read_mail, kommune_request, kommune_consent
):
    acting(read_mail)
    assert answer(client, kommune_request).status_code == 404
    assert answer(client, kommune_request, "refuse").status_code == 404
    assert withdraw_page(client, kommune_consent).status_code == 404
    assert withdraw(client, kommune_consent).status_code == 404
    kommune_request.refresh_from_db()
    kommune_consent.refresh_from_db()
    assert kommune_request.status == ConsentRequestStatus.PENDING
    assert kommune_consent.status == ConsentStatus.GRANTED


def test_a_consent_right_at_another_authority_shows_nothing_here(
    client, acting, skat_consent_right, kommune_request, kommune_consent, skat_request, skat_consent
):
    acting(skat_consent_right)
    seen = shown(consents_page(client))
    assert seen["pending"] == {skat_request.pk}
    assert seen["in_force"] == seen["history"] == {skat_consent.pk}
    assert answer(client, kommune_request).status_code == 404
    assert withdraw_page(client, kommune_consent).status_code == 404
    assert withdraw(client, kommune_consent).status_code == 404
    assert Consent.objects.get(pk=kommune_consent.pk).status == ConsentStatus.GRANTED


def test_another_citizen_sees_only_their_own_and_cannot_reach_karens(
    client, login, ole, kommune_request, kommune_consent
):
    login(client, ole)
    assert shown(consents_page(client))["in_force"] == set()
    assert answer(client, kommune_request).status_code == 404
    assert withdraw_page(client, kommune_consent).status_code == 404
    assert withdraw(client, kommune_consent).status_code == 404


def test_an_expired_consent_mandate_no_longer_shows_karens_consents(
    client, login, acting, karen, peter, read_mail, kommune_consent_right, kommune_request, time_machine
):
    acting(read_mail)  # a longer mandate keeps Peter acting for Karen
    consent_mandate = acting(kommune_consent_right, days=30)
    assert shown(consents_page(client))["pending"] == {kommune_request.pk}
    time_machine.move_to(consent_mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    kommune_consent = services.grant_consent(
        consent_request=ask(kommune_request.authority, kommune_request.category, "Efter udløb"),
        acting_user=karen,
        principal=karen,
    )
    login(client, peter)  # the session from a month ago has run out
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert shown(consents_page(client))["in_force"] == set()
    assert withdraw_page(client, kommune_consent).status_code == 404
    assert answer(client, kommune_request).status_code == 404


def test_a_revoked_consent_mandate_no_longer_shows_karens_consents(
    client, acting, karen, read_mail, kommune_consent_right, kommune_request, kommune_consent
):
    acting(read_mail)
    consent_mandate = acting(kommune_consent_right)
    attorney_services.revoke(power_of_attorney=consent_mandate, acting_user=karen)
    assert shown(consents_page(client)) == {
        "pending": set(),
        "in_force": set(),
        "history": set(),
        "refused": set(),
    }
    assert withdraw(client, kommune_consent).status_code == 404
    assert answer(client, kommune_request).status_code == 404
    assert Consent.objects.get(pk=kommune_consent.pk).status == ConsentStatus.GRANTED


def test_a_mandate_without_its_object_permission_shows_nothing(
    karen, peter, kommune_consent_right, kommune_consent
):
    from authorities.models import CitizenFileUserObjectPermission

    attorney_services.accept(
        power_of_attorney=grant(karen, peter, [kommune_consent_right]), acting_user=peter
    )
    assert list(selectors.consents_of(actor=peter, principal=karen)) == [kommune_consent]
    CitizenFileUserObjectPermission.all_rows.filter(user=peter).delete()
    assert not selectors.consents_of(actor=peter, principal=karen).exists()
