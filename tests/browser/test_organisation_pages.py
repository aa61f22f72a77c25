"""The pages of organisations as attorneys, each checked as in the other journeys (axe in both
languages, one h1, nothing scrolling sideways) on a laptop and on a small phone: the administrator's
organisation, member and mandate pages, the employee's page, the invitation, the grantor's choice of
an organisation, and a caseworker registering an organisation in the admin."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services as attorney_services
from attorney.models import PowerOfAttorney, Status
from authorities.models import Right
from organisations import services
from organisations.models import Organisation
from portal.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

from .test_admin import totp_now

pytestmark = pytest.mark.browser

CVR, NAME = "12345674", "Revisorhuset A/S"
SCREENS = [(1280, False), (320, True)]


@pytest.fixture
def revisorhuset(world):
    """Peter administers Revisorhuset, Ole works there; Karen has offered it a power of attorney,
    and Lone is invited."""
    peter, ole, karen = world["peter@example.dk"], world["ole@example.dk"], world["karen@example.dk"]
    organisation, code = services.register_organisation(
        acting_user=world["sagsbehandler.skat@example.dk"],
        cvr=CVR,
        name=NAME,
        administrator_national_id=peter.national_id,
        administrator_name=peter.name,
        administrator_email=peter.email,
    )
    services.join_organisation(acting_user=peter, code=code)
    _membership, code = services.invite_member(
        acting_user=peter, organisation=organisation, name=ole.name, email=ole.email
    )
    services.join_organisation(acting_user=ole, code=code)
    _invitation, lone_code = services.invite_member(
        acting_user=peter, organisation=organisation, name="Lone Olsen", email="lone@example.dk"
    )
    now = timezone.now()
    mandate = attorney_services.grant_power_of_attorney_to_organisation(
        acting_user=karen,
        cvr=CVR,
        organisation_name=NAME,
        rights=Right.objects.filter(code="skat.read_mail"),
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )
    return {"organisation": organisation, "mandate": mandate, "lone_code": lone_code}


def _path(name: str, *args) -> str:
    return reverse(f"organisations:{name}", args=args)


@pytest.mark.parametrize(("width", "small"), SCREENS, ids=[f"{w}px" for w, _ in SCREENS])
def test_the_organisation_pages_pass_axe_and_fit_the_screen(revisorhuset, people_at, width, small):
    organisation, mandate = revisorhuset["organisation"], revisorhuset["mandate"]
    ole_member = organisation.memberships.get(user__email="ole@example.dk")
    lone_invitation = organisation.memberships.get(invited_name="Lone Olsen")

    peter = people_at("peter", width=width, touch=small)
    page = peter.page
    peter.login("peter@example.dk", DEMO_PASSWORD)
    peter.goto(_path("overview"), "organisations")
    peter.goto(_path("detail", organisation.pk), "organisation page with an offer")
    peter.goto(_path("mandate", organisation.pk, mandate.pk), "power of attorney to answer")
    peter.click(
        page.locator(f"form[action='{_path('accept', organisation.pk, mandate.pk)}'] button"), "accepted"
    )
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE

    # Ole gets access from the mandate's page, which then names him.
    page.locator("#id_membership").select_option(str(ole_member.pk))
    peter.click(page.locator("main form[action$='/adgang/'] button"), "power of attorney with access given")
    expect(peter.main()).to_contain_text("Ole Hansen")
    peter.goto(_path("detail", organisation.pk), "organisation page with members and access")
    peter.goto(_path("member", organisation.pk, ole_member.pk), "a member")
    peter.goto(_path("give_access", organisation.pk), "give access")
    peter.goto(_path("invite", organisation.pk), "invite a member")
    page.locator("#id_name").fill("Mette Ny")
    page.locator("#id_email").fill("ikke-en-adresse")
    peter.click(page.locator("main button[type=submit]"), "invite a member, with errors")
    expect(page.locator("#id_email_error")).to_be_visible()
    peter.goto(_path("end_membership", organisation.pk, lone_invitation.pk), "withdraw an invitation")
    peter.goto(_path("end_membership", organisation.pk, ole_member.pk), "remove a member")
    peter.goto(_path("resign", organisation.pk, mandate.pk), "resign on the organisation's behalf")

    # The employee: his clients, and acting for Karen names the organisation.
    ole = people_at("ole", width=width, touch=small)
    ole.login("ole@example.dk", DEMO_PASSWORD)
    ole.goto(_path("detail", organisation.pk), "organisation page for an employee")
    ole.goto(reverse("attorney:act_for"), "act for a client")
    ole.click(ole.page.locator("form button.button-primary").first, "acting for a client")
    expect(ole.page.locator(".acting-banner")).to_contain_text(NAME)

    # The invited person sees who invites her, and to what.
    lone = people_at("lone", width=width, touch=small)
    lone.login("lone@example.dk", DEMO_PASSWORD)
    lone.goto(_path("join", revisorhuset["lone_code"]), "invitation to an organisation")

    # The grantor: the organisation and who may act, and the choice of an organisation when giving one.
    karen = people_at("karen", width=width, touch=small)
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.goto(reverse("attorney:detail", args=[mandate.pk]), "a power of attorney to an organisation")
    expect(karen.main()).to_contain_text("Ole Hansen")
    karen.goto(reverse("attorney:create"), "give a power of attorney")
    organisation_panel = karen.page.locator("#attorney-organisation")
    expect(organisation_panel).to_be_hidden()
    karen.page.locator("label[for=id_attorney_kind_1]").click()
    expect(organisation_panel).to_be_visible()
    expect(karen.page.locator("#attorney-person")).to_be_hidden()
    karen.page.locator("#id_cvr").fill("12 34 56 75")
    karen.page.locator("#id_organisation_name").fill(NAME)
    karen.click(
        karen.page.locator("main button[type=submit]"),
        "give a power of attorney to an organisation, with errors",
    )
    expect(karen.page.locator("#id_cvr_error")).to_be_visible()
    expect(karen.page.locator("#attorney-organisation")).to_be_visible()


def test_a_caseworker_registers_an_organisation(world, people_at):
    sofie = people_at("sofie")
    page = sofie.page
    sofie.goto("/konto/login/", "login")
    page.get_by_label("E-mail").fill("sagsbehandler.skat@example.dk")
    page.get_by_label("Adgangskode").fill(DEMO_PASSWORD)
    sofie.click(page.get_by_role("button", name="Log ind"), "two-factor code")
    page.get_by_label("Kode").fill(totp_now(DEMO_TOTP_SECRET))
    sofie.click(page.get_by_role("button", name="Log ind"), "caseworker logged in: the admin index")
    sofie.goto(reverse("admin:organisations_organisation_changelist"), "admin organisations")
    sofie.click(
        page.locator(f"a[href='{reverse('admin:organisations_organisation_register')}']"),
        "register an organisation",
    )
    page.locator("#id_cvr").fill("12 34 56 74")
    page.locator("#id_name").fill(NAME)
    page.locator("#id_administrator_national_id").fill("150375-2345")
    page.locator("#id_administrator_name").fill("Peter Jensen")
    page.locator("#id_administrator_email").fill("peter@example.dk")
    page.locator("#id_checked_in_register").check()
    sofie.click(page.locator("input[type=submit]"), "registered organisation")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    organisation = Organisation.objects.get()
    assert (organisation.cvr, organisation.memberships.get().invited_email) == (CVR, "peter@example.dk")
    assert not PowerOfAttorney.objects.exists()
