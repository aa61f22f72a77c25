"""MitID login through NemLog-in (OIOSAML 3): real signed and encrypted SAML responses from a test IdP."""

import datetime
import json

import environ
import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from attorney.models import PowerOfAttorney, Status
from authorities.consent import services as consent_services
from authorities.models import Consent, ConsentStatus, DataCategory
from portal import eid
from portal.eid_settings import build_saml_app, saml_apps_from_env, sso_origin
from portal.models import AuditEvent, User

from ..conftest import grant
from ..factories import PASSWORD, UserFactory
from ..saml_idp import TestIdentityProvider, key_and_certificate

pytestmark = pytest.mark.django_db

SP_ENTITY_ID = "https://fuldmagt.test.example/saml"
NEW_CPR = "2404781237"  # nobody has an account with it
HOST = "fuldmagt.test.example"  # python3-saml wants URLs on a dotted host name, not "testserver"


def browser() -> Client:
    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the tests read the English texts
    return client


@pytest.fixture
def client(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    return browser()


@pytest.fixture
def idp(settings, tmp_path):
    """The portal configured for MitID against a throwaway IdP, as settings.py does from EID_* variables."""
    sp_key, sp_certificate = key_and_certificate("Fuldmagt test SP")
    provider = TestIdentityProvider(sp_certificate=sp_certificate, sp_entity_id=SP_ENTITY_ID, sp_host=HOST)
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(provider.metadata())
    app = build_saml_app(
        idp_metadata_file=str(metadata),
        sp_entity_id=SP_ENTITY_ID,
        sp_certificate=sp_certificate,
        sp_private_key=sp_key,
        contact_email="fuldmagt@digst.example",
        organization_name="Digitaliseringsstyrelsen",
        organization_url="https://fuldmagt.test.example",
    )
    settings.SOCIALACCOUNT_PROVIDERS = {
        "saml": {"provider_class": "portal.eid.NemLogInProvider", "APPS": [app]}
    }
    return provider


def start_login(client, idp, *, next_url=None, loa=None):
    """Press "Log in with MitID" (or the step-up button); return the AuthnRequest the IdP receives."""
    data = {"process": "login"}
    if next_url:
        data["next"] = next_url
    if loa:
        data["loa"] = loa
    response = client.post(reverse("saml_login", args=["mitid"]), data)
    assert response.status_code == 302, response.content[:300]
    return idp.read_authn_request(response["Location"])


def post_to_acs(client, saml_response):
    """The browser posts the IdP's answer to the portal, which finishes the login after a redirect."""
    response = client.post(
        reverse("saml_acs", args=["mitid"]), {"SAMLResponse": saml_response, "RelayState": ""}
    )
    assert response.status_code == 302
    return client.get(response["Location"])


def mitid_login(client, idp, *, next_url=None, loa="Substantial", **answer):
    request = start_login(client, idp, next_url=next_url)
    return post_to_acs(client, idp.response(request, loa=loa, **answer))


def logged_in_user(client):
    return client.get(reverse("home")).wsgi_request.user


def refusals():
    return list(AuditEvent.objects.filter(action="eid.login_refused"))


# --- configuration ------------------------------------------------------------------------------


def test_without_saml_configuration_nothing_about_mitid_shows(client, karen, login):
    page = client.get(reverse("account_login")).content.decode()
    assert "MitID" not in page
    assert 'name="password"' in page
    assert client.get(reverse("saml_login", args=["mitid"])).status_code == 404
    acs = client.post(reverse("saml_acs", args=["mitid"]), {"SAMLResponse": "x"})
    assert client.get(acs["Location"]).status_code == 404
    assert client.get(reverse("saml_metadata", args=["mitid"])).status_code == 404
    login(client, karen)
    assert logged_in_user(client) == karen
    assert eid.SESSION_KEY not in client.session


def test_login_page_offers_mitid_first(client, idp):
    page = client.get(reverse("account_login")).content.decode()
    assert "Log in with MitID" in page
    assert page.index('id="eid-login"') < page.index('name="password"')


def test_identity_providers_come_from_settings_only(client, idp):
    SocialApp.objects.create(provider="saml", name="Other IdP", client_id="other", settings={})
    assert client.get(reverse("saml_login", args=["other"])).status_code == 404


def test_metadata_for_nemlogin_has_our_entity_id_certificate_and_persistent_nameid(client, idp):
    response = client.get(reverse("saml_metadata", args=["mitid"]))
    assert response.status_code == 200
    xml = response.content.decode()
    assert f'entityID="{SP_ENTITY_ID}"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert 'use="signing"' in xml and 'use="encryption"' in xml
    assert "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" in xml
    assert f"http://{HOST}/konto/saml/mitid/acs/" in xml


def test_settings_build_the_app_only_when_metadata_is_given(tmp_path, monkeypatch, idp):
    env = environ.Env()
    kwargs = {"contact_email": "", "organization_name": "", "organization_url": ""}
    for name in ("EID_IDP_METADATA_FILE", "EID_IDP_METADATA_URL", "EID_SP_ENTITY_ID"):
        monkeypatch.delenv(name, raising=False)
    assert saml_apps_from_env(env, **kwargs) == []

    metadata = tmp_path / "idp.xml"
    metadata.write_text(idp.metadata())
    monkeypatch.setenv("EID_IDP_METADATA_FILE", str(metadata))
    with pytest.raises(ImproperlyConfigured):  # no SP entity id, certificate or key
        saml_apps_from_env(env, **kwargs)
    key, certificate = key_and_certificate("Fuldmagt test SP")
    (tmp_path / "sp.key").write_text(key)
    (tmp_path / "sp.crt").write_text(certificate)
    monkeypatch.setenv("EID_SP_ENTITY_ID", SP_ENTITY_ID)
    monkeypatch.setenv("EID_SP_PRIVATE_KEY_FILE", str(tmp_path / "sp.key"))
    monkeypatch.setenv("EID_SP_CERTIFICATE_FILE", str(tmp_path / "sp.crt"))
    [app] = saml_apps_from_env(env, **kwargs)
    assert app["client_id"] == "mitid"
    assert app["settings"]["idp"]["entity_id"] == idp.entity_id
    assert app["settings"]["advanced"]["want_assertion_encrypted"] is True
    assert sso_origin(app) == "https://saml.test-idp.example"  # added to the CSP's form-action


# --- logging in ---------------------------------------------------------------------------------


def test_new_cpr_creates_an_account_and_logs_in(client, idp):
    response = mitid_login(
        client,
        idp,
        cpr=NEW_CPR,
        name="Anne  Jensen",
        email="Anne@Example.dk",
        next_url=reverse("attorney:overview"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("attorney:overview")
    user = User.objects.get(national_id=NEW_CPR)
    assert (user.name, user.email) == ("Anne Jensen", "anne@example.dk")
    assert not user.has_usable_password()
    assert logged_in_user(client) == user
    assert client.session[eid.SESSION_KEY]["loa"] == "Substantial"
    account = SocialAccount.objects.get(user=user)
    assert account.provider == "saml" and account.uid.startswith(
        "https://data.gov.dk/model/core/eid/person/uuid/"
    )
    assert account.extra_data == {"loa": "Substantial"}  # no CPR, name or email kept beside the account
    event = AuditEvent.objects.get(action="eid.login")
    assert event.actor == user and event.details == {"loa": "Substantial", "new_account": True}


def test_new_cpr_without_email_is_asked_for_one_and_cannot_change_name_or_cpr(client, idp):
    response = mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email=None)
    assert response.status_code == 302
    assert response["Location"] == reverse("socialaccount_signup")
    assert not User.objects.filter(national_id=NEW_CPR).exists()  # nothing yet: no placeholder address
    page = client.get(reverse("socialaccount_signup")).content.decode()
    assert "Anne Jensen" in page and "240478-1237" in page
    assert 'name="national_id"' not in page and 'name="name"' not in page
    response = client.post(
        reverse("socialaccount_signup"),
        {
            "email": "anne@example.dk",
            "preferred_language": "en",
            "national_id": "0102451234",
            "name": "Someone Else",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="anne@example.dk")
    assert (user.national_id, user.name, user.preferred_language) == (NEW_CPR, "Anne Jensen", "en")
    assert logged_in_user(client) == user
    assert client.session[eid.SESSION_KEY]["loa"] == "Substantial"
    assert any("anne@example.dk" in message.to for message in mail.outbox)  # the address is confirmed by link


def test_an_unusable_email_in_the_assertion_is_ignored_not_refused(client, idp):
    response = mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email="not an address")
    assert response["Location"] == reverse("socialaccount_signup")
    assert not refusals()


def test_an_email_address_already_in_use_is_not_taken_over(client, idp, karen):
    response = mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email=karen.email)
    assert response["Location"] == reverse("socialaccount_signup")
    response = client.post(
        reverse("socialaccount_signup"), {"email": karen.email, "preferred_language": "da"}
    )
    assert response.status_code == 200
    assert "Another account uses this email address" in response.content.decode()
    assert not User.objects.filter(national_id=NEW_CPR).exists()
    assert User.objects.get(email=karen.email) == karen


def test_existing_cpr_logs_into_that_account(client, idp, karen):
    response = mitid_login(client, idp, cpr=karen.national_id, name=karen.name, email="other@example.dk")
    assert response.status_code == 302
    assert logged_in_user(client) == karen
    karen.refresh_from_db()
    assert karen.email == "karen@example.dk"  # the account is kept as it is
    assert karen.check_password(PASSWORD)
    assert SocialAccount.objects.get(provider="saml").user == karen
    assert AuditEvent.objects.filter(action="eid.account_linked", actor=karen).count() == 1
    # The next time the linked MitID is found directly.
    client.logout()
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name)
    assert logged_in_user(client) == karen
    assert SocialAccount.objects.count() == 1
    assert User.objects.filter(national_id=karen.national_id).count() == 1


def test_an_invited_attorney_logs_in_with_mitid_and_finds_the_invitation(client, idp, karen, read_mail):
    invitee = UserFactory.build(national_id=NEW_CPR, name="Anne Jensen")
    mandate = grant(karen, invitee, [read_mail])
    assert mandate.attorney is None
    mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email="anne@example.dk")
    page = client.get(reverse("attorney:overview")).content.decode()
    assert reverse("attorney:invitation", args=[mandate.pk]) in page


def test_a_linked_mitid_with_another_cpr_is_refused(client, idp, karen, peter):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, name_id="https://example/uuid/1")
    client.logout()
    response = mitid_login(
        client, idp, cpr=peter.national_id, name=peter.name, name_id="https://example/uuid/1"
    )
    assert response.status_code == 403
    assert not logged_in_user(client).is_authenticated
    assert refusals()[0].details["reason"] == "identity_mismatch"


def test_a_mitid_login_can_only_log_in_not_connect_to_the_current_account(client, idp, karen, login):
    login(client, karen)
    response = client.post(reverse("saml_login", args=["mitid"]), {"process": "connect"})
    request = idp.read_authn_request(response["Location"])
    post_to_acs(client, idp.response(request, cpr=NEW_CPR, name="Anne Jensen", email="anne@example.dk"))
    anne = User.objects.get(national_id=NEW_CPR)
    assert logged_in_user(client) == anne
    assert not SocialAccount.objects.filter(user=karen).exists()


def test_a_signed_response_around_the_signed_assertion_is_accepted_too(client, idp):
    mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email="anne@example.dk", sign_response=True)
    assert logged_in_user(client).national_id == NEW_CPR


# --- bad input ----------------------------------------------------------------------------------


def other_key():
    return key_and_certificate("Somebody else")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"sign_assertion": False}, "signature"),
        ({"signing_key": "other"}, "signature"),
        ({"audience": "https://another-service.example/saml"}, "audience"),
        ({"recipient": "https://another-service.example/acs"}, "audience"),
        ({"cpr": None}, "missing_cpr"),
        ({"cpr": "12345"}, "invalid_cpr"),
        ({"cpr": "3202451234"}, "invalid_cpr"),  # no 32 February
        ({"cpr": "010245-1234"}, "invalid_cpr"),
        ({"cpr": ["2404781237", "0102451234"]}, "invalid_cpr"),
        ({"name": None}, "missing_name"),
        ({"loa": "Medium"}, "invalid_loa"),
        ({"in_response_to": None}, "unsolicited"),
        ({"in_response_to": "_not-a-request-of-this-session"}, "unsolicited"),
        ({"encrypt": False}, "invalid_response"),
        ({"encrypt_for": "other"}, "invalid_response"),
        ({"status": "urn:oasis:names:tc:SAML:2.0:status:Responder"}, "cancelled"),
    ],
)
def test_bad_responses_are_refused_and_change_nothing(client, idp, karen, answer, reason):
    if answer.get("signing_key") == "other":
        answer["signing_key"] = other_key()
    if answer.get("encrypt_for") == "other":
        answer["encrypt_for"] = other_key()[1]
    users_before = list(User.objects.values())
    request = start_login(client, idp)
    response = post_to_acs(client, idp.response(request, cpr=answer.pop("cpr", NEW_CPR), **answer))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You could not be logged in with MitID" in page
    assert "nothing has been created or changed" in page
    assert not logged_in_user(client).is_authenticated
    assert list(User.objects.values()) == users_before
    assert not SocialAccount.objects.exists()
    [event] = refusals()
    assert event.details["reason"] == reason, event.details
    assert NEW_CPR not in json.dumps(event.details) and "240478" not in json.dumps(event.details)


def test_expired_response_is_refused(client, idp, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    request = start_login(client, idp)
    saml_response = idp.response(request, cpr=NEW_CPR, valid_for=datetime.timedelta(minutes=1))
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=8), tick=False)
    response = post_to_acs(client, saml_response)
    assert response.status_code == 403
    assert not User.objects.filter(national_id=NEW_CPR).exists()
    assert refusals()[0].details["reason"] == "expired"


def test_a_replayed_response_is_refused(client, idp):
    request = start_login(client, idp)
    saml_response = idp.response(request, cpr=NEW_CPR, email="anne@example.dk")
    assert post_to_acs(client, saml_response).status_code == 302
    anne = User.objects.get(national_id=NEW_CPR)
    # The same browser posts it again, and so does someone who copied it.
    assert post_to_acs(client, saml_response).status_code == 403
    other_browser = browser()
    assert post_to_acs(other_browser, saml_response).status_code == 403
    assert not logged_in_user(other_browser).is_authenticated
    assert [e.details["reason"] for e in refusals()] == ["replayed", "replayed"]
    assert User.objects.filter(national_id=NEW_CPR).get() == anne


@pytest.mark.parametrize("garbage", ["", "not base64!", "PHhtbD4=", "PGZvbz48L2Zvbz4="])
def test_garbage_instead_of_a_response_is_refused_without_an_error(client, idp, garbage):
    start_login(client, idp)
    response = post_to_acs(client, garbage)
    assert response.status_code == 403
    assert refusals()


# --- assurance level: step-up -------------------------------------------------------------------


def grant_form(attorney, right) -> dict:
    return {
        "attorney_national_id": attorney.national_id,
        "attorney_name": attorney.name,
        "rights": [right.pk],
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
    }


def test_a_low_session_is_stepped_up_before_granting(client, idp, karen, peter, read_mail):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Low")
    assert client.session[eid.SESSION_KEY]["loa"] == "Low"
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    confirm = reverse("attorney:confirm")
    response = client.post(confirm, HTTP_REFERER=f"http://{HOST}{confirm}")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('eid_step_up')}?next={confirm.replace('/', '%2F')}"
    assert not PowerOfAttorney.objects.exists()

    page = client.get(response["Location"]).content.decode()
    assert "substantial" in page and "low" in page
    request = start_login(client, idp, next_url=confirm, loa="Substantial")
    assert request.force_authn
    assert request.requested_contexts == ["https://data.gov.dk/concept/core/nsis/loa/Substantial"]
    response = post_to_acs(
        client, idp.response(request, cpr=karen.national_id, name=karen.name, loa="Substantial")
    )
    assert response["Location"] == confirm
    assert logged_in_user(client) == karen
    assert client.session[eid.SESSION_KEY]["loa"] == "Substantial"
    # The draft survived logging in again: confirming now gives the power of attorney.
    response = client.post(confirm)
    mandate = PowerOfAttorney.objects.get()
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])
    assert mandate.grantor == karen and mandate.attorney == peter


def test_a_substantial_session_is_not_stepped_up(client, idp, karen, peter, read_mail):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Substantial")
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    response = client.post(reverse("attorney:confirm"))
    mandate = PowerOfAttorney.objects.get()
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])


def test_a_high_session_is_not_stepped_up(client, idp, karen, active_mandate):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="High")
    client.post(reverse("attorney:revoke", args=[active_mandate.pk]), {"reason": ""})
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.REVOKED


def test_a_stale_mitid_session_confirms_with_mitid_not_a_password(
    client, idp, karen, peter, read_mail, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name)
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=10), tick=False)
    response = client.post(reverse("attorney:confirm"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("eid_step_up"))
    assert not PowerOfAttorney.objects.exists()
    assert "confirm with MitID that it is you" in client.get(response["Location"]).content.decode()
    request = start_login(client, idp, next_url=reverse("attorney:confirm"), loa="Substantial")
    post_to_acs(client, idp.response(request, cpr=karen.national_id, name=karen.name))
    client.post(reverse("attorney:confirm"))
    assert PowerOfAttorney.objects.get().grantor == karen


@pytest.fixture
def consent_request(kommune, karen):
    income = DataCategory.objects.create(
        authority=kommune, code="kk.income", name_da="Indkomst", name_en="Income", max_days=365
    )
    return consent_services.request_consent(
        authority=kommune,
        citizen_national_id=karen.national_id,
        category=income,
        purpose_da="Beregne betaling",
        purpose_en="Calculate payment",
        days=30,
    )


def test_each_legal_act_is_stepped_up_in_a_low_session(client, idp, karen, peter, read_mail, consent_request):
    mandate = grant(karen, peter, [read_mail])
    given = grant(peter, karen, [read_mail])
    step_up = reverse("eid_step_up")
    acts = [
        (reverse("attorney:accept", args=[given.pk]), {}),
        (reverse("attorney:revoke", args=[mandate.pk]), {"reason": ""}),
        (reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}),
    ]

    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Low")
    for url, data in acts:
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(step_up), url
    mandate.refresh_from_db()
    given.refresh_from_db()
    assert (mandate.status, given.status) == (Status.PENDING, Status.PENDING)
    assert not Consent.objects.exists()

    # At level Substantial the same acts go through.
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Substantial")
    for url, data in acts:
        response = client.post(url, data)
        assert not response["Location"].startswith(step_up), url
    mandate.refresh_from_db()
    given.refresh_from_db()
    assert (mandate.status, given.status) == (Status.REVOKED, Status.ACTIVE)
    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.GRANTED

    # Withdrawing: stepped up at Low, done at Substantial.
    withdraw = reverse("authorities:consent_withdraw", args=[consent.pk])
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Low")
    assert client.get(withdraw).status_code == 200  # reading the page is fine
    assert client.post(withdraw)["Location"].startswith(step_up)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.GRANTED
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="High")
    client.post(withdraw)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.WITHDRAWN


def test_password_sessions_are_not_affected(client, idp, karen, peter, read_mail, login):
    login(client, karen)
    assert eid.SESSION_KEY not in client.session
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    client.post(reverse("attorney:confirm"))
    assert PowerOfAttorney.objects.get().grantor == karen


def test_a_password_login_after_a_low_mitid_login_forgets_the_mitid_level(client, idp, karen, login):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Low")
    assert eid.session_state(client.get(reverse("home")).wsgi_request)
    login(client, karen)
    assert eid.SESSION_KEY not in client.session


def test_no_password_reset_mail_for_an_account_that_logs_in_with_mitid_only(client, idp):
    mitid_login(client, idp, cpr=NEW_CPR, name="Anne Jensen", email="anne@example.dk")
    client.logout()
    mail.outbox.clear()
    client.post(reverse("account_reset_password"), {"email": "anne@example.dk"})
    assert mail.outbox == []
