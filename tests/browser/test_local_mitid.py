import re

import pytest
from playwright.sync_api import expect

from attorney.models import PowerOfAttorney, Status
from authorities.models import Right
from portal.eid_settings import local_test_login_app
from portal.models import User

from ..conftest import grant
from ..factories import UserFactory

pytestmark = pytest.mark.browser

ANNE = ("2404781237", "Anne Holm")  # nobody has an account with this CPR number yet


@pytest.fixture
def local_mitid(settings, live_server, tmp_path):
    """The local MitID test login, as settings.py sets it up in development."""
    settings.EID_LOCAL_TEST_LOGIN = True
    settings.EID_LOCAL_TEST_LOGIN_DIR = tmp_path
    app = local_test_login_app(tmp_path, base_url=live_server.url)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "saml": {"provider_class": "portal.eid.NemLogInProvider", "APPS": [app]}
    }


def test_an_invited_person_signs_up_with_the_local_mitid_test_login_and_accepts(
    world, local_mitid, people_at
):
    karen = world["karen@example.dk"]
    read_mail = Right.objects.get(code="skat.read_mail")
    mandate = grant(karen, UserFactory.build(national_id=ANNE[0], name=ANNE[1]), [read_mail])
    assert mandate.attorney is None and mandate.status == Status.PENDING

    anne = people_at("anne")
    page = anne.page
    anne.goto("/konto/mitid-test/", "local MitID test login without a request")
    expect(page.get_by_role("alert")).to_be_visible()
    anne.goto("/konto/login/", "login with MitID offered")
    anne.click(page.locator("#eid-login"), "local MitID test login")
    expect(page).to_have_url(re.compile(r"/konto/mitid-test/\?SAMLRequest="))
    expect(page.get_by_role("note")).to_be_visible()  # says plainly that this is not MitID

    page.locator("input[name=identity][value=other]").check()
    page.locator("#id_national_id").fill(f"{ANNE[0][:6]}-{ANNE[0][6:]}")
    page.locator("#id_name").fill(ANNE[1])
    page.locator("#id_email").fill("anne.holm@example.dk")
    expect(page.locator("input[name=loa][value=Substantial]")).to_be_checked()
    # The answer page exists for one POST only: it is checked in this language alone.
    anne.click(
        page.get_by_role("button", name=re.compile(r"^(Log ind|Log in)$")), "answer", other_language=False
    )
    anne.click(page.get_by_role("button", name=re.compile(r"^(Fortsæt|Continue)$")), "logged in with MitID")
    expect(page.locator(".portal-user")).to_contain_text(ANNE[1])
    user = User.objects.get(national_id=ANNE[0])
    assert (user.name, user.email) == (ANNE[1], "anne.holm@example.dk")

    anne.goto(f"/fuldmagter/{mandate.pk}/invitation/", "invitation")
    anne.click(anne.main().get_by_role("button", name="Acceptér"), "power of attorney accepted")
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE and mandate.attorney == user
    assert PowerOfAttorney.objects.filter(attorney=user).count() == 1
