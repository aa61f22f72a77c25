"""The local MitID test login (development only): the real MitID login path against a page of the portal
that plays NemLog-in. The portal checks its signed, encrypted answers like NemLog-in's."""

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from portal import eid
from portal.dev_idp import local_keys
from portal.eid_settings import local_test_login_app
from portal.models import User

from .test_eid import HOST, browser, logged_in_user
from .test_security import ROOT, production_env

pytestmark = pytest.mark.django_db

NEW_CPR = "2404781237"


@pytest.fixture
def client(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    return browser()


@pytest.fixture
def local_login(settings, tmp_path):
    """The local test login as settings.py sets it up in development, with its keys in tmp_path."""
    settings.EID_LOCAL_TEST_LOGIN = True
    settings.EID_LOCAL_TEST_LOGIN_DIR = tmp_path
    app = local_test_login_app(tmp_path, base_url=f"http://{HOST}")
    settings.SOCIALACCOUNT_PROVIDERS = {
        "saml": {"provider_class": "portal.eid.NemLogInProvider", "APPS": [app]}
    }
    return app


def open_test_login(client, *, loa=None):
    """Press "Log in with MitID": the portal's signed AuthnRequest arrives at the test login page."""
    data = {"process": "login", **({"loa": loa} if loa else {})}
    response = client.post(reverse("saml_login", args=["mitid"]), data)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == (HOST, reverse("eid_local_login"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page


def answer(client, page, **choices):
    """The tester's choices; returns the page with the Continue button."""
    data = {"saml_request": page.context["form"]["saml_request"].value(), "loa": "Substantial", **choices}
    return client.post(reverse("eid_local_login"), data)


def press_continue(client, page):
    """The browser posts the signed answer to the portal's assertion consumer service."""
    acs = urlsplit(page.context["acs_url"])
    assert acs.netloc == HOST
    response = client.post(
        acs.path, {"SAMLResponse": page.context["saml_response"], "RelayState": page.context["relay_state"]}
    )
    assert response.status_code == 302
    return client.get(response["Location"])


def test_a_tester_logs_in_as_a_demo_identity(client, local_login, karen):
    page = open_test_login(client)
    text = page.content.decode()
    assert "Local MitID test login" in text and "This is not MitID." in text
    for name in ("Karen Jensen", "Peter Jensen", "Ole Hansen", "Anne Jensen"):
        assert name in text
    assert 'value="Substantial" id="id_loa_1" checked' in text  # Substantial unless the tester chooses
    done = answer(client, page, identity=karen.national_id)
    assert "Karen Jensen" in done.content.decode()
    press_continue(client, done)
    assert logged_in_user(client) == karen
    assert client.session[eid.SESSION_KEY]["loa"] == "Substantial"


def test_a_typed_cpr_and_name_sign_up_a_new_person(client, local_login):
    page = open_test_login(client)
    done = answer(
        client,
        page,
        identity="other",
        national_id="240478-1237",
        name="Anne  Jensen",
        email="anne@example.dk",
    )
    press_continue(client, done)
    anne = User.objects.get(national_id=NEW_CPR)
    assert (anne.name, anne.email) == ("Anne Jensen", "anne@example.dk")
    assert logged_in_user(client) == anne


def test_the_chosen_level_is_the_sessions(client, local_login, karen):
    press_continue(client, answer(client, open_test_login(client), identity=karen.national_id, loa="Low"))
    assert client.session[eid.SESSION_KEY]["loa"] == "Low"


def test_a_step_up_asks_for_the_minimum_level(client, local_login, karen):
    page = open_test_login(client, loa="Substantial")
    assert "a minimum assurance level" in page.content.decode()


def test_an_impossible_cpr_number_is_explained_and_nothing_is_sent(client, local_login):
    page = answer(client, open_test_login(client), identity="other", national_id="3202451234", name="Nemo")
    assert page.status_code == 200
    assert "saml_response" not in page.context
    assert page.context["form"].errors["national_id"]


@pytest.mark.parametrize(
    "change", [lambda q: q.replace("SAMLRequest=", "SAMLRequest=x"), lambda q: q.split("&Signature=")[0]]
)
def test_a_request_that_is_not_the_portals_is_refused(client, local_login, change):
    page = open_test_login(client)
    forged = change(page.context["form"]["saml_request"].value())
    assert client.get(f"{reverse('eid_local_login')}?{forged}").status_code == 400
    response = client.post(
        reverse("eid_local_login"), {"saml_request": forged, "identity": "0102451234", "loa": "High"}
    )
    assert response.status_code == 400
    assert "saml_response" not in (response.context or {})


def test_the_page_is_absent_when_the_test_login_is_off(client, karen):
    assert client.get(reverse("eid_local_login")).status_code == 404
    assert client.post(reverse("eid_local_login"), {"identity": "0102451234"}).status_code == 404
    assert "MitID" not in client.get(reverse("account_login")).content.decode()


def test_the_keys_are_made_once_and_kept(tmp_path):
    first = local_keys(tmp_path)
    assert local_keys(tmp_path) == first
    assert oct((tmp_path / "idp.key").stat().st_mode & 0o777) == "0o600"


def start(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup();"
        "from django.conf import settings as s; print(s.EID_LOCAL_TEST_LOGIN)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_production_refuses_to_start_with_the_test_login(tmp_path):
    assert start(production_env(EID_LOCAL_TEST_LOGIN_DIR=str(tmp_path))).stdout.split() == ["False"]
    refused = start(production_env(EID_LOCAL_TEST_LOGIN="true", EID_LOCAL_TEST_LOGIN_DIR=str(tmp_path)))
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "EID_LOCAL_TEST_LOGIN" in refused.stderr
    assert not (tmp_path / "idp.key").exists()


def test_development_without_nemlogin_has_the_test_login(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EID_"))}
    assert start({**env, "EID_LOCAL_TEST_LOGIN_DIR": str(tmp_path)}).stdout.split() == ["True"]
    assert (tmp_path / "idp.key").exists()
    off = start({**env, "EID_LOCAL_TEST_LOGIN": "false", "EID_LOCAL_TEST_LOGIN_DIR": str(tmp_path / "off")})
    assert off.stdout.split() == ["False"]
