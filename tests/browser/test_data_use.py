import json
import urllib.request

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def report_use(base_url: str, body: dict) -> int:
    """Udbetaling Danmark's system reports a use through the API, as the README's curl example does."""
    request = urllib.request.Request(  # noqa: S310 - the live test server
        f"{base_url}/api/v1/data-uses",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {demo.DEMO_UD_API_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return response.status


def test_karen_sees_a_new_use_of_her_data_appear(world, people_at, live_server):
    demo.seed_consents(world)
    demo.seed_api_client()
    demo.seed_data_uses(world)
    karen = people_at("karen")
    page = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Samtykker"), "consents with a link to the uses")
    karen.click(
        karen.main().get_by_role("link", name="Se hvordan myndigheder har brugt dine data"),
        "use of my data",
        docs="data-uses",
    )
    rows = karen.main().locator("table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Udbetaling Danmark")

    status = report_use(
        live_server.url,
        {
            "id": "ud-sag-4711",
            "citizen": "010245-1234",
            "category": "skat.income",
            "purpose": "Kontrol af boligstøtte efter flytning",
            "at": timezone.now().isoformat(),
            "case_reference": "BS-2026-4711",
        },
    )
    assert status == 201

    page.reload()
    karen.check("use of my data with the new use")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Kontrol af boligstøtte efter flytning")
    expect(rows.first).to_contain_text("BS-2026-4711")

    # The basis of the use leads to the consent, whose page lists the same four uses.
    karen.click(rows.first.get_by_role("link", name="Dit samtykke"), "the consent and its uses")
    expect(karen.main().locator("table tbody tr")).to_have_count(4)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Udbetaling Danmark")


@pytest.mark.parametrize("screen", [{"width": 320}, {"width": 1280, "zoom": 2}])
def test_the_uses_fit_a_narrow_screen_and_double_zoom(world, people_at, screen):
    demo.seed_consents(world)
    demo.seed_api_client()
    demo.seed_data_uses(world)
    karen = people_at("karen", **screen)
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.goto("/brug-af-mine-data/", "use of my data")  # checks that nothing scrolls sideways
    karen.click(karen.main().locator("table tbody tr").first.get_by_role("link"), "the consent and its uses")
