"""The start page after login, and Peter's workspace while he acts for Karen: her letters, her
applications, what he did in her name, his own pages marked as his, and leaving acting mode.

New wording is matched in Danish or English, as translations are merged separately.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services
from authorities.models import Right
from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_world(live_server):
    """The demo, where Peter may also apply for Karen's pension supplement (her application is in review)."""
    people = demo.seed_demo()
    karen, peter = people["karen@example.dk"], people["peter@example.dk"]
    now = timezone.now()
    mandate = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=Right.objects.filter(code="udbetaling-danmark.apply_pension_supplement"),
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )
    services.accept(power_of_attorney=mandate, acting_user=peter)
    return people


def test_karen_starts_at_the_overview(demo_world, people_at):
    karen = people_at("karen")
    page = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/overblik/$"))
    expect(page.locator("h1")).to_have_text(re.compile("^(Overblik|Overview)$"))
    main = karen.main()
    # What waits for her: the consent request and her unread letters, each a link to act on.
    expect(main).to_contain_text("beder om dit samtykke til at bruge dine oplysninger")
    expect(main.get_by_role("link", name=re.compile(r"\d+ (ulæste breve|unread letters)"))).to_be_visible()
    # The notices are here too; "Beskeder" is no longer a page of its own.
    expect(page.locator("h2#notices")).to_be_visible()
    karen.goto("/overblik/", "overview", docs="start-page")
    karen.click(karen.menu("Digital Post"), "digital post")
    karen.goto("/beskeder/", "old notices address")
    expect(page).to_have_url(re.compile(r"/overblik/$"))


def test_peter_works_in_karens_affairs_and_leaves(demo_world, people_at):
    peter = people_at("peter", language="en")
    page = peter.page
    peter.login("peter@example.dk", DEMO_PASSWORD)
    expect(page.locator("h1")).to_have_text("Overview")

    # From the overview he acts for Karen; the act-for page lists what he can do for her.
    peter.click(page.get_by_role("button", name="Act for Karen Jensen"), "acting for Karen")
    banner = page.get_by_role("region", name="Acting for another person")
    expect(banner).to_contain_text("You are acting for Karen Jensen")

    # A right leads to its task: her letters from the Danish Tax Agency only.
    peter.click(
        page.get_by_role("link", name="Read the letters from Danish Tax Agency"), "Karen's letters from skat"
    )
    expect(page.locator("h1")).to_have_text("Digital post")
    rows = peter.main().locator("tbody tr")
    expect(rows.first).to_contain_text("Danish Tax Agency")
    expect(rows.filter(has_text="Payments Denmark")).to_have_count(0)
    peter.click(page.get_by_role("link", name="Din årsopgørelse for 2025 er klar"), "a letter for Karen")

    # Her applications, within his rights: her pension application in review.
    peter.click(peter.menu("Applications"), "Karen's applications")
    main = peter.main()
    expect(main).to_contain_text("Shown for Karen Jensen")
    expect(main.locator("tbody tr").filter(has_text="Payments Denmark")).to_have_count(1)

    # What he has done in her name.
    peter.click(peter.menu("Done in my name"), "done in Karen's name")
    expect(page.locator("h1")).to_have_text("Done in Karen Jensen's name")
    expect(peter.main().locator("tbody")).to_contain_text("Din årsopgørelse for 2025 er klar")

    # His own powers of attorney: the page says they are his, and offers to stop acting.
    peter.click(peter.menu("Powers of attorney"), "Peter's own powers of attorney")
    note = peter.main().locator(".own-page-note")
    expect(note).to_contain_text("This page is about your own affairs, not Karen Jensen's")
    peter.click(note.get_by_role("button", name="Stop acting for Karen Jensen"), "stopped acting")
    expect(page.get_by_role("region", name="Acting for another person")).to_have_count(0)
    expect(page.get_by_role("status").first).to_contain_text("You are no longer acting for another person.")
