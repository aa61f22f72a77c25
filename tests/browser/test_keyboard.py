"""Peter uses the portal with the keyboard only, in English: every key press lands on something that
shows it has focus (checked in support.Person.press), and every page is checked as in the other
journeys."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services
from authorities.models import LetterRead, Right
from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def peter_may_read_karens_tax_post(world):
    karen, peter = world["karen@example.dk"], world["peter@example.dk"]
    demo.seed_letters_and_applications(world)
    now = timezone.now()
    mandate = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=Right.objects.filter(code="skat.read_mail"),
        valid_from=now,
        valid_until=now + datetime.timedelta(days=90),
    )
    return services.accept(power_of_attorney=mandate, acting_user=peter)


def test_peter_uses_the_portal_with_the_keyboard_only(peter_may_read_karens_tax_post, people_at):
    peter = people_at("peter")
    page = peter.page
    peter.goto("/", "front page")

    # The first Tab reaches the skip link, and it leads past the header into the page content.
    shown = peter.press("Tab")
    assert shown["text"] == "Gå til sidens indhold"
    expect(page.locator(".skipnav")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # From there on to the language buttons at the bottom of the page.
    peter.tab_to("English")
    peter.activate("Enter", "front page in English")
    expect(page.locator("h1")).to_have_text("Let someone you trust help you with the public sector")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Log in.
    peter.tab_to("Log in")
    peter.activate("Enter", "login")
    peter.tab_to("id_login")
    page.keyboard.type("peter@example.dk")
    peter.tab_to("id_password")
    page.keyboard.type(DEMO_PASSWORD)
    peter.activate("Enter", "logged in")
    expect(page.locator(".portal-user")).to_contain_text("Peter Jensen")

    # Act for Karen and read a letter from the tax agency.
    peter.tab_to("Act for someone")
    peter.activate("Enter", "act for someone")
    peter.tab_to("Act for Karen Jensen")
    peter.activate("Space", "acting for Karen")
    expect(page.get_by_role("region", name="Acting for another person")).to_contain_text(
        "You are acting for Karen Jensen"
    )
    peter.tab_to("Digital post")
    peter.activate("Enter", "Karen's digital post")
    peter.tab_to("Din årsopgørelse for 2025 er klar")
    peter.activate("Enter", "a letter from skat")
    expect(page.locator("main")).to_contain_text("Du skal betale 1.250 kr. i restskat.")
    assert LetterRead.objects.filter(reader__email="peter@example.dk").exists()
    peter.tab_to("Stop acting")
    peter.activate("Space", "stopped acting")
    expect(page.get_by_role("region", name="Acting for another person")).to_have_count(0)

    # A form sent with mistakes: each error in the summary is a link that takes focus to its field.
    peter.tab_to("Powers of attorney")
    peter.activate("Enter", "powers of attorney")
    peter.tab_to("Ask someone for a power of attorney")
    peter.activate("Enter", "ask for a power of attorney")
    peter.tab_to("id_grantor_national_id")
    page.keyboard.type("12345")
    peter.tab_to("Send the request")
    peter.activate("Enter", "ask for a power of attorney, with errors")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the following:")
    first_error = summary.get_by_role("link").first
    expect(first_error).to_have_text("Their full name: This field is required.")
    expect(first_error).to_have_attribute("href", "#id_grantor_name")
    peter.tab_to("Their full name: This field is required.")
    page.keyboard.press("Enter")
    expect(page.locator("#id_grantor_name")).to_be_focused()
    assert peter.focused()["visible"]
    expect(page.locator("#id_grantor_name")).to_have_attribute("aria-describedby", "id_grantor_name_error")
    expect(page.locator("#id_grantor_name_error")).to_have_text("Error: This field is required.")
    page.keyboard.type("Karen Jensen")
    expect(page.locator("#id_grantor_national_id")).to_have_value("12345")
    peter.check("ask for a power of attorney, error field focused", other_language=False)

    # And out again.
    peter.tab_to("Log out", backwards=True)
    peter.activate("Enter", "logged out")
    expect(page.locator(".portal-user")).to_contain_text("Log in")

    # The accessibility statement, linked from every page's footer, gives the result of these checks.
    peter.tab_to("Accessibility statement")
    peter.activate("Enter", "accessibility statement")
    expect(page.locator("main")).to_contain_text("axe-core found no violations of WCAG 2.1 level A or AA")
    expect(page.locator("main time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    assert peter.focus_steps > 20
