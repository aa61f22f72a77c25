"""EID_REQUIRED_FOR_LEGAL_ACTS (on in production): legal acts need a MitID session at level Substantial;
a password session, with or without a second factor, can read but not act. The admin is not affected."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from attorney.middleware import ACTING_FOR_SESSION_KEY
from attorney.models import PowerOfAttorney, Status
from authorities.models import Consent, ConsentStatus
from portal import eid

from ..attorney.test_paper_registration import REGISTER, form_data
from ..authorities.test_admin import admin_as, make_caseworker
from ..conftest import grant
from . import test_eid
from .test_eid import grant_form, mitid_login
from .test_security import ROOT, production_env

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

# The MitID set-up of the eID tests: a test IdP, a browser on a dotted host name, a consent request.
client = test_eid.client
idp = test_eid.idp
consent_request = test_eid.consent_request


@pytest.fixture(autouse=True)
def mitid_required(settings):
    settings.EID_REQUIRED_FOR_LEGAL_ACTS = True


def is_step_up(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("eid_step_up"))


def give(client, grantor, attorney, right):
    client.post(reverse("attorney:create"), grant_form(attorney, right))
    return client.post(reverse("attorney:confirm"))


def act_for(client, grantor):
    return client.post(reverse("attorney:act_for"), {"grantor": grantor.pk})


# --- a password session reads but does not act ----------------------------------------------------


def setting_in(env: dict, name: str) -> str:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup();"
        f"from django.conf import settings as s; print(s.{name})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_rule_is_on_in_production_and_off_in_development():
    assert setting_in(production_env(), "EID_REQUIRED_FOR_LEGAL_ACTS") == "True"
    assert (
        setting_in(production_env(EID_REQUIRED_FOR_LEGAL_ACTS="false"), "EID_REQUIRED_FOR_LEGAL_ACTS")
        == "False"
    )
    development = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EID_"))}
    assert setting_in(development, "EID_REQUIRED_FOR_LEGAL_ACTS") == "False"


def test_a_password_session_cannot_give(client, idp, login, karen, peter, read_mail):
    login(client, karen)
    response = give(client, karen, peter, read_mail)
    assert is_step_up(response)
    assert not PowerOfAttorney.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "To do this you must log in with MitID" in page or "skal du logge ind med MitID" in page
    assert 'name="loa" value="Substantial"' in page


def test_a_password_session_cannot_accept(client, idp, login, karen, peter, read_mail):
    mandate = grant(karen, peter, [read_mail])
    login(client, peter)
    assert is_step_up(client.post(reverse("attorney:accept", args=[mandate.pk])))
    mandate.refresh_from_db()
    assert mandate.status == Status.PENDING


def test_a_password_session_cannot_start_acting_for_someone(client, idp, login, peter, karen, active_mandate):
    login(client, peter)
    assert client.get(reverse("attorney:act_for")).status_code == 200  # reading is fine
    assert is_step_up(act_for(client, karen))
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_a_password_session_cannot_answer_a_consent(client, idp, login, karen, consent_request):
    login(client, karen)
    response = client.post(
        reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}
    )
    assert is_step_up(response)
    assert not Consent.objects.exists()


def test_an_account_made_with_mitid_that_set_a_password_cannot_act_with_it(
    client, idp, login, peter, read_mail
):
    mitid_login(client, idp, cpr="2404781237", name="Anne Jensen", email="anne@example.dk")
    anne = client.get(reverse("home")).wsgi_request.user
    anne.set_password("correct horse battery staple")
    anne.save()
    client.logout()
    client.post(reverse("account_login"), {"login": anne.email, "password": "correct horse battery staple"})
    assert eid.session_state(client.get(reverse("home")).wsgi_request) is None
    assert is_step_up(give(client, anne, peter, read_mail))
    assert not PowerOfAttorney.objects.exists()


# --- MitID at level Substantial acts; below it is stepped up -------------------------------------------


def test_mitid_substantial_gives_accepts_acts_for_and_answers(
    client, idp, karen, peter, read_mail, consent_request
):
    mitid_login(client, idp, cpr=karen.national_id, name=karen.name, loa="Substantial")
    assert not is_step_up(give(client, karen, peter, read_mail))
    assert PowerOfAttorney.objects.get().grantor == karen
    response = client.post(
        reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}
    )
    assert not is_step_up(response)
    assert Consent.objects.get().status == ConsentStatus.GRANTED

    mandate = PowerOfAttorney.objects.get()
    mitid_login(client, idp, cpr=peter.national_id, name=peter.name, loa="Substantial")
    assert not is_step_up(client.post(reverse("attorney:accept", args=[mandate.pk])))
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE
    assert not is_step_up(act_for(client, karen))
    assert client.session[ACTING_FOR_SESSION_KEY] == karen.pk


def test_mitid_low_is_sent_to_step_up(client, idp, karen, peter, active_mandate):
    mitid_login(client, idp, cpr=peter.national_id, name=peter.name, loa="Low")
    response = act_for(client, karen)
    assert is_step_up(response)
    assert ACTING_FOR_SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "substantial" in page and "low" in page


# --- the admin --------------------------------------------------------------------------------------


def test_caseworkers_keep_password_and_mfa_in_the_admin(client, skat, karen, peter, read_mail):
    caseworker = make_caseworker(skat, email="sagsbehandler.skat@example.dk")
    admin_as(client, caseworker)
    response = client.post(
        reverse(REGISTER), form_data(karen, peter.national_id, "Peter Jensen", [read_mail])
    )
    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("eid_step_up"))
    assert PowerOfAttorney.objects.get().grantor == karen
