"""A caseworker registers a power of attorney that a citizen signed on paper, in the admin."""

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

from attorney.models import Basis, PowerOfAttorney, Status
from portal.demo import DEMO_PASSWORD, DEMO_PDF, DEMO_TOTP_SECRET

pytestmark = pytest.mark.browser

REGISTER_URL_NAME = "admin:attorney_powerofattorney_register_paper"


def register_url() -> str:
    try:
        return reverse(REGISTER_URL_NAME)
    except NoReverseMatch:
        pytest.xfail("admin registration not built yet")


def totp_now(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_caseworker_registers_a_paper_power_of_attorney(world, people_at):
    url = register_url()
    sofie = people_at("sofie")
    page = sofie.page

    # Caseworkers log in with a code from their authenticator app.
    sofie.goto("/konto/login/", "login")
    page.get_by_label("E-mail").fill("sagsbehandler.skat@example.dk")
    page.get_by_label("Adgangskode").fill(DEMO_PASSWORD)
    sofie.click(page.get_by_role("button", name="Log ind"), "two-factor code")
    page.get_by_label("Kode").fill(totp_now(DEMO_TOTP_SECRET))
    # A caseworker's login lands in the admin (the citizens' start page is not theirs).
    sofie.click(page.get_by_role("button", name="Log ind"), "caseworker logged in: the admin index")
    sofie.click(
        page.locator(f"a[href='{reverse('admin:attorney_powerofattorney_changelist')}']").first,
        "admin powers of attorney",
    )
    sofie.click(page.locator(f"a[href='{url}']"), "register a paper power of attorney")

    # Only her own authority's rights can be registered.
    rights = page.locator("input[name=rights]")
    labels = [
        page.locator(f"label[for='{rights.nth(i).get_attribute('id')}']").inner_text().strip()
        for i in range(rights.count())
    ]
    assert "Læse post fra Skattestyrelsen" in labels
    assert not [label for label in labels if "Udbetaling Danmark" in label or "Københavns Kommune" in label]

    until = timezone.localdate() + datetime.timedelta(days=365)
    page.locator("#id_grantor_national_id").fill("010245-1234")
    page.locator("#id_grantor_name").fill("Karen Jensen")
    page.locator("#id_attorney_national_id").fill("150375-2345")
    page.locator("#id_attorney_name").fill("Peter Jensen")
    page.get_by_label("Læse post fra Skattestyrelsen").check()
    page.get_by_label("Se årsopgørelsen").check()
    page.locator("#id_valid_from").fill(timezone.localdate().isoformat())
    page.locator("#id_valid_until").fill(until.isoformat())
    page.locator("#id_document").set_input_files(
        files=[{"name": "fuldmagt-underskrevet.pdf", "mimeType": "application/pdf", "buffer": DEMO_PDF}]
    )
    page.locator("#id_identity_checked").check()
    sofie.click(page.locator("input[type=submit]"), "registered paper power of attorney")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    expect(page.locator("#content")).to_contain_text("Karen Jensen")

    mandate = PowerOfAttorney.objects.get(grantor__email="karen@example.dk")
    assert mandate.basis == Basis.PAPER
    assert mandate.status == Status.ACTIVE
    assert mandate.attorney.email == "peter@example.dk"
    assert mandate.registered_by.email == "sagsbehandler.skat@example.dk"
    assert {r.code for r in mandate.rights.all()} == {"skat.read_mail", "skat.view_tax_assessment"}
    assert mandate.paper_document

    # Karen sees it among her powers of attorney, marked as signed on paper.
    karen = people_at("karen")
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Fuldmagter"), "Karen's powers of attorney")
    karen.click(
        karen.page.get_by_role("link", name=re.compile("Vis.*Peter Jensen")), "paper power of attorney"
    )
    summary = karen.main().locator("dl")
    expect(summary).to_contain_text("Underskrevet papirblanket")
    expect(summary).to_contain_text("Aktiv")
