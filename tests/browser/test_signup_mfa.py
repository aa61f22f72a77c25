import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.core import mail
from playwright.sync_api import expect

from portal.models import User

pytestmark = pytest.mark.browser

PASSWORD = "Kaffe-og-kringle-2026"


def current_totp(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_karen_signs_up_and_sets_up_two_factor_authentication(catalogue, people_at):
    karen = people_at("karen")
    page = karen.page
    karen.goto("/", "front page", docs="front-page")
    expect(page.locator("h1")).to_have_text("Lad en, du stoler på, hjælpe dig med det offentlige")

    karen.click(page.get_by_role("link", name="Opret en konto"), "sign up")
    expect(page.locator("h1")).to_have_text("Opret konto")
    page.get_by_label("Fulde navn").fill("Karen Jensen")
    page.get_by_label("CPR-nummer").fill("010245-1234")
    page.get_by_label("E-mail").fill("karen@example.dk")
    page.get_by_label("Adgangskode", exact=True).fill(PASSWORD)
    page.get_by_label("Adgangskode (igen)").fill(PASSWORD)
    karen.click(page.get_by_role("button", name="Opret konto"), "after sign up")
    expect(page.locator(".portal-user")).to_contain_text("Karen Jensen")
    karen_row = User.objects.get(email="karen@example.dk")
    assert karen_row.national_id == "0102451234"
    assert not karen_row.is_identity_verified

    # A typed CPR number is only a claim: the powers of attorney wait until she confirms who she is.
    karen.goto("/fuldmagter/", "identity not verified")
    expect(page.locator("h1")).to_have_text("Din identitet")
    expect(karen.main()).to_contain_text("Dit CPR-nummer er ikke bekræftet endnu.")

    # The address must be confirmed before two-factor authentication can be turned on.
    (confirmation,) = [m for m in mail.outbox if "karen@example.dk" in m.to]
    link = re.search(r"https?://\S+/konto/confirm-email/\S+/", confirmation.body).group(0)
    karen.goto(link, "confirm email address")
    karen.click(page.get_by_role("button", name="Bekræft"), "email address confirmed")

    karen.click(karen.menu("Min konto"), "my account")
    expect(page.locator("dl")).to_contain_text("010245-1234")
    expect(page.locator("dl")).to_contain_text("Slået fra")  # two-factor authentication is off

    karen.click(page.get_by_role("link", name="Totrinsbekræftelse"), "two-factor authentication")
    karen.click(page.get_by_role("link", name="Slå til"), "confirm your password")
    karen.reauthenticate(PASSWORD, "activate authenticator app", reload=True)
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Kode fra godkendelsesappen").fill(current_totp(secret))
    karen.click(page.get_by_role("button", name="Slå til"), "recovery codes")
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    assert Authenticator.objects.filter(user=karen_row, type=Authenticator.Type.TOTP).exists()

    # Log out and in again: now the code from the app is asked for.
    karen.click(page.get_by_role("button", name="Log af"), "after logout")
    karen.goto("/konto/login/", "login")
    page.get_by_label("E-mail").fill("karen@example.dk")
    page.get_by_label("Adgangskode").fill(PASSWORD)
    karen.click(page.get_by_role("button", name="Log ind"), "two-factor code")
    page.get_by_label("Kode").fill(current_totp(secret))
    karen.click(page.get_by_role("button", name="Log ind"), "after two-factor login")
    expect(page.locator(".portal-user")).to_contain_text("Karen Jensen")
    karen.click(karen.menu("Min konto"), "my account with two-factor on")
    expect(page.locator("dl")).to_contain_text("Slået til")
