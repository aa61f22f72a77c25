"""A CPR number counts only once it is verified: by MitID, or by a caseworker who saw identity papers.

The attack these tests replay: sign up with a password and another person's CPR number, then try
every page, form and API that deals with that number.
"""

import datetime
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from attorney import policy
from attorney import selectors as attorney_selectors
from attorney import services as attorney_services
from attorney.models import PowerOfAttorney, Status
from authorities.clients.services import create_api_client
from authorities.consent import services as consent_services
from authorities.models import ConsentRequest, DataCategory
from portal.errors import NotAllowed
from portal.identity import verify_identity_in_person
from portal.models import AuditEvent, IdentityVerification, Notice, User

from ..attorney.test_paper_registration import form_data
from ..authorities.test_admin import admin_as, make_caseworker
from ..conftest import grant
from ..factories import PASSWORD, UserFactory
from . import test_eid
from .test_eid import browser, logged_in_user, mitid_login

pytestmark = pytest.mark.django_db

# MitID logins need the eID tests' throwaway IdP and a browser on a dotted host name.
client = test_eid.client
idp = test_eid.idp

ANNE_CPR, ANNE = "1203904567", "Anne Jensen"


def sign_up(client, *, cpr: str, name: str, email: str):
    response = client.post(
        reverse("account_signup"),
        {
            "name": name,
            "national_id": cpr,
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 302, response.content[:800]
    return User.objects.get(email=email)


@pytest.fixture
def invitation_to_anne(karen, read_mail):
    """Karen gives Anne, who has no account yet, a power of attorney."""
    now = timezone.now()
    return attorney_services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=ANNE_CPR,
        attorney_name=ANNE,
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )


@pytest.fixture
def squatter(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    return sign_up(client, cpr="120390-4567", name=ANNE, email="not-anne@example.dk")


@pytest.fixture
def income(kommune):
    return DataCategory.objects.create(
        authority=kommune,
        code="kobenhavns-kommune.income",
        name_da="Indkomst",
        name_en="Income",
        max_days=365,
    )


# --- the squatter ---------------------------------------------------------------------------------


def test_a_password_sign_up_leaves_the_cpr_number_unverified(squatter):
    assert squatter.national_id == ANNE_CPR
    assert not squatter.is_identity_verified
    assert squatter.identity_verification == ""


def test_a_squatter_sees_no_invitation_for_the_cpr_number(client, squatter, invitation_to_anne):
    assert list(attorney_selectors.invitations_for(squatter)) == []
    response = client.get(reverse("attorney:overview"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Karen" not in page
    assert "not verified yet" in page
    assert client.get(reverse("attorney:invitation", args=[invitation_to_anne.pk])).status_code == 403


def test_a_squatter_cannot_accept_the_invitation_by_page_or_service(client, squatter, invitation_to_anne):
    assert client.post(reverse("attorney:accept", args=[invitation_to_anne.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        attorney_services.accept(power_of_attorney=invitation_to_anne, acting_user=squatter)
    invitation_to_anne.refresh_from_db()
    assert invitation_to_anne.status == Status.PENDING
    assert invitation_to_anne.attorney is None


def test_a_squatter_is_told_nothing_about_waiting_invitations(squatter, invitation_to_anne):
    assert not Notice.objects.filter(recipient=squatter).exists()


def test_a_squatter_cannot_act_for_anyone_even_with_a_mandate_made_out_to_the_account(
    client, karen, squatter, read_mail
):
    # A mandate row naming the unverified account (left from before verification existed).
    mandate = grant(karen, UserFactory(), [read_mail])
    PowerOfAttorney.objects.filter(pk=mandate.pk).update(
        attorney=squatter, invitee_national_id="", status=Status.ACTIVE, activated_at=timezone.now()
    )
    assert not policy.can_act_for(squatter, karen, read_mail)
    assert list(policy.mandates_in_force(attorney=squatter)) == []
    assert client.post(reverse("attorney:act_for"), {"grantor": karen.pk}).status_code == 403
    assert client.get(reverse("authorities:inbox")).status_code == 403


def test_a_squatter_reaches_no_citizen_page(client, squatter):
    for name in ("attorney:overview", "attorney:create", "attorney:request_create", "authorities:inbox"):
        assert client.get(reverse(name)).status_code == 403, name
    for name in ("authorities:applications", "authorities:consents", "authorities:done_in_my_name"):
        assert client.get(reverse(name)).status_code == 403, name


def test_a_squatter_can_still_use_the_account_settings(client, squatter):
    assert client.get(reverse("account_settings")).status_code == 200
    page = client.get(reverse("identity"))
    assert page.status_code == 200
    assert "not verified" in page.content.decode()


def test_a_consent_request_to_the_cpr_number_is_invisible_and_unanswerable(client, squatter, kommune, income):
    consent_request = consent_services.request_consent(
        authority=kommune,
        citizen_national_id=ANNE_CPR,
        category=income,
        purpose_da="Beregne",
        purpose_en="Calculate",
        days=30,
    )
    assert not Notice.objects.filter(recipient=squatter).exists()
    response = client.post(
        reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        consent_services.grant_consent(
            consent_request=consent_request, acting_user=squatter, principal=squatter
        )
    consent_request.refresh_from_db()
    assert consent_request.status == "pending"


def test_a_paper_registration_never_makes_the_squatter_the_attorney(client, squatter, karen, read_mail, skat):
    caseworker = make_caseworker(skat)
    admin_as(client, caseworker)
    client.post(
        reverse("admin:attorney_powerofattorney_register_paper"),
        form_data(karen, ANNE_CPR, ANNE, [read_mail]),
    )
    mandate = PowerOfAttorney.objects.get(grantor=karen, invitee_national_id=ANNE_CPR)
    assert mandate.attorney is None
    assert mandate.status == Status.PENDING
    assert not policy.can_act_for(squatter, karen, read_mail)


def test_the_api_treats_an_unverified_account_like_no_account(client, squatter, skat, karen, read_mail):
    token = create_api_client(authority=skat, name="Skat system")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def deliver(cpr):
        return client.post(
            reverse("api:letters"),
            json.dumps({"recipient": cpr, "subject": "Hej", "body": "Brev"}),
            content_type="application/json",
            **headers,
        )

    unverified, unknown = deliver(ANNE_CPR), deliver("2404781237")
    assert unverified.status_code == unknown.status_code == 400
    assert unverified.json() == unknown.json()
    decision = client.post(
        reverse("api:decisions"),
        json.dumps({"actor": ANNE_CPR, "principal": karen.national_id, "right": read_mail.code}),
        content_type="application/json",
        **headers,
    )
    assert decision.json()["decision"] == "deny"


def test_the_real_person_logging_in_with_mitid_takes_the_number_from_the_squatter(
    idp,
    squatter,
    invitation_to_anne,
):
    anne_browser = browser()
    mitid_login(anne_browser, idp, cpr=ANNE_CPR, name=ANNE, email="anne@example.dk")
    anne = User.objects.with_verified_cpr(ANNE_CPR).get()
    assert anne.pk != squatter.pk
    assert anne.identity_verification == IdentityVerification.MITID
    squatter.refresh_from_db()
    assert squatter.national_id is None
    notice = Notice.objects.get(recipient=squatter)
    assert "removed" in notice.subject
    assert AuditEvent.objects.filter(action="identity.claim_removed", principal=squatter).exists()
    assert list(attorney_selectors.invitations_for(anne)) == [invitation_to_anne]
    attorney_services.accept(power_of_attorney=invitation_to_anne, acting_user=anne)


# --- verifying -----------------------------------------------------------------------------------


def test_two_unverified_accounts_may_claim_the_same_number(client, settings, squatter):
    client.logout()
    other = sign_up(client, cpr=ANNE_CPR, name=ANNE, email="really-anne@example.dk")
    assert other.national_id == squatter.national_id == ANNE_CPR


def test_sign_up_with_a_verified_number_is_refused(client, settings, karen):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Karen Jensen",
            "national_id": karen.national_id,
            "email": "fake-karen@example.dk",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(email="fake-karen@example.dk").exists()


def test_a_verified_number_is_unique_in_the_database(karen):
    with pytest.raises(IntegrityError):
        UserFactory(national_id=karen.national_id)


def test_an_unverified_account_that_logs_in_with_mitid_is_verified_and_linked(
    client,
    idp,
    squatter,
):
    # The real Anne signed up with a password first; logged in, she confirms with MitID.
    other = User.objects.create_user(
        email="anne@example.dk", password=PASSWORD, name=ANNE, national_id=ANNE_CPR
    )
    client.logout()
    client.post(reverse("account_login"), {"login": other.email, "password": PASSWORD})
    mitid_login(client, idp, cpr=ANNE_CPR, name=ANNE)
    other.refresh_from_db()
    squatter.refresh_from_db()
    assert logged_in_user(client) == other
    assert other.is_identity_verified
    assert squatter.national_id is None


def test_mitid_never_links_to_an_account_only_because_it_typed_the_number(
    idp,
    squatter,
):
    mitid_login(browser(), idp, cpr=ANNE_CPR, name=ANNE, email="anne@example.dk")
    squatter.refresh_from_db()
    assert not squatter.is_identity_verified
    assert not squatter.socialaccount_set.exists()


@pytest.fixture
def desk(kommune):
    caseworker = make_caseworker(kommune, name="Lise Kommune")
    caseworker.user_permissions.add(Permission.objects.get(codename="verify_identity"))
    return User.objects.get(pk=caseworker.pk)


def test_a_citizen_service_desk_verifies_identity_from_papers(client, desk, squatter):
    real = User.objects.create_user(
        email="anne@example.dk", password=PASSWORD, name="anne j", national_id=ANNE_CPR
    )
    admin_as(client, desk)
    url = reverse("admin:portal_user_verify_identity")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "email": "ANNE@example.dk",
            "national_id": "120390-4567",
            "name": ANNE,
            "document": "passport",
            "seen_in_person": "on",
        },
    )
    assert response.status_code == 302
    real.refresh_from_db()
    assert real.is_identity_verified
    assert (real.name, real.identity_verification, real.identity_document) == (ANNE, "in_person", "passport")
    assert real.identity_verified_by == desk
    event = AuditEvent.objects.get(action="identity.verified", principal=real)
    assert event.actor == desk and event.details["document"] == "passport"
    squatter.refresh_from_db()
    assert squatter.national_id is None


def test_a_caseworker_without_the_permission_cannot_verify_identity(client, skat, squatter):
    admin_as(client, make_caseworker(skat))
    url = reverse("admin:portal_user_verify_identity")
    assert client.get(url).status_code == 403
    with pytest.raises(PermissionDenied):
        verify_identity_in_person(
            acting_user=make_caseworker(skat, email="other@example.dk"),
            user=squatter,
            national_id=ANNE_CPR,
            name=ANNE,
            document="passport",
        )
    squatter.refresh_from_db()
    assert not squatter.is_identity_verified


def test_the_desk_cannot_verify_a_number_another_account_owns(desk, karen, squatter):
    with pytest.raises(ValidationError):
        verify_identity_in_person(
            acting_user=desk,
            user=squatter,
            national_id=karen.national_id,
            name=karen.name,
            document="passport",
        )
    squatter.refresh_from_db()
    assert not squatter.is_identity_verified


@pytest.mark.parametrize(
    ("field", "value"),
    [("national_id", "０１０２４５-１２３４"), ("document", "library_card"), ("name", "   ")],
)
def test_the_desk_gets_a_clear_error_for_bad_input(client, desk, squatter, field, value):
    admin_as(client, desk)
    data = {
        "email": squatter.email,
        "national_id": "120390-4567",
        "name": ANNE,
        "document": "passport",
        "seen_in_person": "on",
        field: value,
    }
    response = client.post(reverse("admin:portal_user_verify_identity"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    squatter.refresh_from_db()
    assert not squatter.is_identity_verified


# --- the same words whoever the number belongs to ------------------------------------------------


@pytest.mark.parametrize("case", ["unknown", "unverified", "name differs"])
def test_the_grant_form_gives_the_same_answer_for_unknown_unverified_and_another_name(
    client, login, karen, peter, read_mail, case
):
    cpr, name = {
        "unknown": ("2404781237", "Ib Madsen"),
        "unverified": (ANNE_CPR, ANNE),
        "name differs": (peter.national_id, "Ib Madsen"),
    }[case]
    if case == "unverified":
        UserFactory(national_id=ANNE_CPR, name=ANNE, unverified=True)
    login(client, karen)
    today = timezone.localdate()
    client.post(
        reverse("attorney:create"),
        {
            "attorney_national_id": cpr,
            "attorney_name": name,
            "rights": [read_mail.pk],
            "valid_from": today.isoformat(),
            "valid_until": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    response = client.post(reverse("attorney:confirm"), follow=True)
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]][-1].replace(name, "NAME")
    assert said in (
        "The power of attorney has been created. NAME must now accept it.",
        "Fuldmagten er oprettet. Nu skal NAME acceptere den.",
    )
    mandate = PowerOfAttorney.objects.get(grantor=karen, invitee_national_id=cpr)
    assert mandate.attorney is None and mandate.status == Status.PENDING


def test_an_invitation_with_another_name_is_not_shown_to_the_verified_owner(karen, peter, read_mail):
    now = timezone.now()
    mandate = attorney_services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=peter.national_id,
        attorney_name="Ib Madsen",
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=30),
    )
    assert mandate.attorney is None
    assert list(attorney_selectors.invitations_for(peter)) == []
    with pytest.raises(NotAllowed):
        attorney_services.accept(power_of_attorney=mandate, acting_user=peter)


def test_the_cpr_and_name_check_is_rate_limited_per_account(client, login, ole, karen, read_mail, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "cpr_name_check": "2/h/user"}
    login(client, ole)
    data = {
        "grantor_national_id": karen.national_id,
        "grantor_name": "Wrong Name",
        "rights": [read_mail.pk],
        "valid_until": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    }
    for _ in range(2):
        page = client.post(reverse("attorney:request_create"), data).content.decode()
        assert "Wait an hour" not in page
    page = client.post(reverse("attorney:request_create"), data).content.decode()
    assert "Wait an hour" in page or "Vent en time" in page


def test_asking_an_unverified_number_reads_like_asking_an_unknown_one(ole, read_mail):
    UserFactory(national_id=ANNE_CPR, name=ANNE, unverified=True)
    until = timezone.now() + datetime.timedelta(days=30)
    answers = []
    for cpr in (ANNE_CPR, "2404781237"):
        with pytest.raises(ValidationError) as error:
            attorney_services.request_power_of_attorney(
                acting_user=ole,
                grantor_national_id=cpr,
                grantor_name=ANNE,
                rights=[read_mail],
                valid_until=until,
            )
        answers.append(error.value.messages)
    assert answers[0] == answers[1]


def test_an_unverified_account_cannot_give_or_ask(read_mail):
    person = UserFactory(unverified=True)
    until = timezone.now() + datetime.timedelta(days=30)
    with pytest.raises(PermissionDenied):
        attorney_services.grant_power_of_attorney(
            acting_user=person,
            attorney_national_id="2404781237",
            attorney_name="Ib Madsen",
            rights=[read_mail],
            valid_from=timezone.now(),
            valid_until=until,
        )
    with pytest.raises(PermissionDenied):
        attorney_services.request_power_of_attorney(
            acting_user=person,
            grantor_national_id="2404781237",
            grantor_name="Ib",
            rights=[read_mail],
            valid_until=until,
        )
    assert not PowerOfAttorney.objects.exists()
    assert not ConsentRequest.objects.exists()


# --- CPR numbers are ASCII digits ----------------------------------------------------------------

FULL_WIDTH = "０７０７０７-７７７７"


def test_sign_up_with_full_width_digits_is_a_form_error_and_makes_no_account(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Ib Madsen",
            "national_id": FULL_WIDTH,
            "email": "ib@example.dk",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert "national_id" in response.context["form"].errors
    assert not User.objects.filter(email="ib@example.dk").exists()


def test_the_grant_form_refuses_full_width_digits(client, login, karen, read_mail):
    login(client, karen)
    today = timezone.localdate()
    response = client.post(
        reverse("attorney:create"),
        {
            "attorney_national_id": FULL_WIDTH,
            "attorney_name": "Ib Madsen",
            "rights": [read_mail.pk],
            "valid_from": today.isoformat(),
            "valid_until": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "attorney_national_id" in response.context["form"].errors
    assert not PowerOfAttorney.objects.exists()


@pytest.mark.parametrize("value", [FULL_WIDTH, "٠١٠٢٤٥١٢٣٤", "01024５1234"])
def test_the_api_refuses_non_ascii_digits_with_400(client, skat, read_mail, value):
    token = create_api_client(authority=skat, name="Skat system")[1]
    response = client.post(
        reverse("api:decisions"),
        json.dumps({"actor": value, "principal": "0102451234", "right": read_mail.code}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
