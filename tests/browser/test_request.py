import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney.models import AttorneyRequest, PowerOfAttorney, RequestStatus, Status
from portal.demo import DEMO_PASSWORD

from .support import danish_date

pytestmark = pytest.mark.browser


def test_peter_asks_for_a_power_of_attorney_and_karen_gives_less(world, people_at):
    peter = people_at("peter")
    page = peter.page
    peter.login("peter@example.dk", DEMO_PASSWORD)
    peter.click(peter.menu("Fuldmagter"), "Peter's powers of attorney")
    peter.click(peter.main().get_by_role("link", name="Bed om en fuldmagt"), "ask for a power of attorney")
    asked_until = timezone.localdate() + datetime.timedelta(days=730)
    page.get_by_label("CPR-nummer på den person, du vil hjælpe").fill("010245-1234")
    page.get_by_label("Personens fulde navn").fill("Karen Jensen")
    page.get_by_label("Læse post fra Skattestyrelsen").check()
    page.get_by_label("Se årsopgørelsen").check()
    page.get_by_label("Søge om pensionstillæg").check()
    page.get_by_label("Til og med").fill(asked_until.isoformat())
    page.get_by_label("Besked til personen").fill("Mor, så kan jeg hjælpe dig med skatten.")
    peter.click(page.get_by_role("button", name="Send anmodningen"), "request sent")
    expect(page.get_by_role("status")).to_have_text("Din anmodning er sendt.")
    expect(peter.main()).to_contain_text("Karen Jensen – Afventer svar")
    attorney_request = AttorneyRequest.objects.get()
    assert attorney_request.rights.count() == 3

    karen = people_at("karen")
    kpage = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Fuldmagter"), "Karen's powers of attorney with a request")
    expect(karen.main()).to_contain_text("Peter Jensen beder dig om en fuldmagt.")
    karen.click(karen.main().get_by_role("link", name="Svar – Peter Jensen"), "answer the request")
    expect(kpage.locator("h1")).to_have_text("Peter Jensen beder dig om en fuldmagt")
    expect(karen.main()).to_contain_text("Mor, så kan jeg hjælpe dig med skatten.")
    for right in ["Læse post fra Skattestyrelsen", "Se årsopgørelsen", "Søge om pensionstillæg"]:
        expect(kpage.get_by_label(right)).to_be_checked()
    expect(kpage.get_by_label("Gyldig til og med")).to_have_value(asked_until.isoformat())

    # Karen gives less than asked: no pension applications, and only for half a year.
    given_until = timezone.localdate() + datetime.timedelta(days=182)
    kpage.get_by_label("Søge om pensionstillæg").uncheck()
    kpage.get_by_label("Gyldig til og med").fill(given_until.isoformat())
    karen.click(kpage.get_by_role("button", name="Ja, giv fuldmagten"), "confirm your password")
    karen.reauthenticate(DEMO_PASSWORD, "power of attorney given on request")
    expect(kpage.get_by_role("status")).to_have_text("Du har givet Peter Jensen en fuldmagt.")
    summary = karen.main()
    expect(summary.locator("dl")).to_contain_text("Aktiv")
    expect(summary.locator("dl")).to_contain_text(danish_date(given_until))
    expect(summary).to_contain_text("Læse post fra Skattestyrelsen")
    expect(summary).to_contain_text("Se årsopgørelsen")
    expect(summary).not_to_contain_text("Søge om pensionstillæg")

    mandate = PowerOfAttorney.objects.get(
        grantor__email="karen@example.dk", attorney__email="peter@example.dk"
    )
    assert mandate.status == Status.ACTIVE
    assert {r.code for r in mandate.rights.all()} == {"skat.read_mail", "skat.view_tax_assessment"}
    assert timezone.localtime(mandate.valid_until).date() == given_until
    attorney_request.refresh_from_db()
    assert attorney_request.status == RequestStatus.APPROVED

    # Peter sees what he got, which is less than he asked for.
    peter.click(peter.menu("Fuldmagter"), "Peter's powers of attorney after the answer")
    received = peter.main().get_by_role("row", name="Karen Jensen")
    expect(received).to_contain_text("Se årsopgørelsen")
    expect(received).not_to_contain_text("Søge om pensionstillæg")
    expect(received).to_contain_text(given_until.strftime("%d.%m.%Y"))
    expect(peter.main()).to_contain_text("Karen Jensen – Godkendt")
