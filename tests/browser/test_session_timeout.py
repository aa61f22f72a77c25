"""The session timeout warning: two minutes before the session ends (30 minutes without activity) a
dialog offers to stay logged in; when the time is up the person is logged out, and what they had typed
into a form is filled in again after they log in. The browser's clock is Playwright's, moved on by hand."""

import re

import pytest
from playwright.sync_api import expect

from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_the_warning_comes_two_minutes_before_the_end_and_stay_logged_in_keeps_the_session(world, people_at):
    karen = people_at("karen")
    page = karen.page
    page.clock.install()
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.goto("/fuldmagter/", "powers of attorney")
    dialog = page.get_by_role("dialog", name="Du bliver snart logget af")

    page.clock.run_for("27:50")
    expect(dialog).to_be_hidden()
    page.clock.run_for("00:20")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("logget af om to minutter")
    # The focus is in the dialog (on its heading), so a screen reader reads it out.
    expect(dialog.get_by_role("heading", name="Du bliver snart logget af")).to_be_focused()
    karen.check_open("timeout warning")

    karen.tab_to("Forbliv logget ind")
    with page.expect_response(re.compile(r"/konto/forbliv-logget-ind/$")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    expect(dialog).to_be_hidden()

    # The time starts over: no warning until 28 minutes after "stay logged in".
    page.clock.run_for("27:00")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/fuldmagter/$"))


def test_when_the_time_is_up_the_person_is_logged_out_and_the_form_is_filled_in_again(world, people_at):
    karen = people_at("karen")
    page = karen.page
    page.clock.install()
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.goto("/fuldmagter/anmodning/", "ask for a power of attorney")
    name, message = page.locator("#id_grantor_name"), page.locator("#id_message")
    name.fill("Karen Jensen")
    message.fill("Jeg vil gerne hjælpe dig med din post.")

    with page.expect_navigation(url=re.compile(r"/konto/login/")):
        page.clock.run_for("30:01")
    karen.check("logged out after inactivity")
    expect(page.get_by_role("status").filter(has_text="Du blev logget af, fordi")).to_be_visible()
    expect(page.locator(".portal-user")).to_contain_text("Log ind")

    page.get_by_label(re.compile(r"^E-mail")).fill("karen@example.dk")
    page.get_by_label(re.compile(r"^Adgangskode")).fill(DEMO_PASSWORD)
    karen.click(page.locator("main button[type=submit]"), "back on the form")
    expect(page).to_have_url(re.compile(r"/fuldmagter/anmodning/$"))
    expect(name).to_have_value("Karen Jensen")
    expect(message).to_have_value("Jeg vil gerne hjælpe dig med din post.")
    expect(page.locator("#draft-restored")).to_be_visible()
