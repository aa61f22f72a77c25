import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney.models import Basis, PowerOfAttorney, Status
from portal.demo import DEMO_PASSWORD

from .support import danish_date

pytestmark = pytest.mark.browser


def test_karen_appoints_peter(world, people_at):
    karen = people_at("karen")
    page = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Fuldmagter"), "powers of attorney, none yet")
    expect(karen.main()).to_contain_text("Du har ikke givet nogen en fuldmagt.")

    karen.click(page.get_by_role("link", name="Giv en fuldmagt"), "give a power of attorney")
    expect(page.get_by_role("heading", name="Hvem skal være din fuldmagtshaver?")).to_be_visible()
    expect(page.get_by_role("heading", name="Hvad må fuldmagtshaveren gøre?")).to_be_visible()

    # A mistyped CPR number and no rights: the errors are listed at the top, each linked to its field.
    page.get_by_label("Fuldmagtshaverens CPR-nummer").fill("15037-2345")
    page.get_by_label("Fuldmagtshaverens fulde navn").fill("Peter Jensen")
    karen.click(
        page.get_by_role("button", name="Fortsæt til oversigten"), "give a power of attorney, with errors"
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Ret venligst følgende:")
    expect(summary).to_contain_text("Vælg mindst én rettighed.")
    cpr_error = summary.get_by_role("link", name=re.compile("Fuldmagtshaverens CPR-nummer"))
    expect(cpr_error).to_have_attribute("href", "#id_attorney_national_id")
    cpr_error.click()
    expect(page.get_by_label("Fuldmagtshaverens CPR-nummer")).to_be_focused()
    expect(page.get_by_label("Fuldmagtshaverens CPR-nummer")).to_have_attribute(
        "aria-describedby", re.compile("id_attorney_national_id_error")
    )

    until = timezone.localdate() + datetime.timedelta(days=365)
    page.get_by_label("Fuldmagtshaverens CPR-nummer").fill("150375-2345")
    page.get_by_label("Læse post fra Skattestyrelsen").check()
    page.get_by_label("Søge om pensionstillæg").check()
    page.get_by_label("Gyldig til og med").fill(until.isoformat())
    karen.click(page.get_by_role("button", name="Fortsæt til oversigten"), "check and confirm")
    expect(page.locator("h1")).to_have_text("Tjek og bekræft")
    main = karen.main()
    expect(main).to_contain_text("Du er ved at give Peter Jensen lov til at handle på dine vegne")
    expect(main).to_contain_text("Peter Jensen (150375-****)")
    expect(main).to_contain_text(danish_date(timezone.localdate()))
    expect(main).to_contain_text(danish_date(until))
    expect(main.locator("ul").first).to_contain_text("Skattestyrelsen")
    expect(main).to_contain_text("Læse post fra Skattestyrelsen")
    expect(main).to_contain_text("Søge om pensionstillæg")
    assert not PowerOfAttorney.objects.exists()

    # Giving the power of attorney is a legal act: allauth asks for the password once more.
    karen.click(page.get_by_role("button", name="Bekræft og giv fuldmagten"), "confirm your password")
    karen.reauthenticate(DEMO_PASSWORD, "power of attorney created")
    expect(page.locator("h1")).to_have_text("Fuldmagt til Peter Jensen")
    expect(page.get_by_role("status")).to_contain_text(
        "Fuldmagten er oprettet. Nu skal Peter Jensen acceptere den."
    )
    expect(main).to_contain_text("Afventer accept")
    expect(main).to_contain_text("Givet digitalt")
    expect(main).to_contain_text(f"{danish_date(until)}")

    mandate = PowerOfAttorney.objects.get()
    assert mandate.status == Status.PENDING and mandate.basis == Basis.DIGITAL
    assert {r.code for r in mandate.rights.all()} == {
        "skat.read_mail",
        "udbetaling-danmark.apply_pension_supplement",
    }
    assert timezone.localtime(mandate.valid_until).date() == until

    karen.click(karen.menu("Fuldmagter"), "powers of attorney, one pending", docs="overview")
    row = karen.main().get_by_role("row", name=re.compile("Peter Jensen"))
    expect(row).to_contain_text(until.strftime("%d.%m.%Y"))
