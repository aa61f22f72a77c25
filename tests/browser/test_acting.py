import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services
from attorney.models import PowerOfAttorney, Status
from authorities.models import Application, LetterRead, Right
from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def invitation(world):
    """Karen has offered Peter a power of attorney (as in test_appoint) and has letters waiting."""
    karen, peter = world["karen@example.dk"], world["peter@example.dk"]
    demo.seed_letters_and_applications(world)
    now = timezone.now()
    return services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=Right.objects.filter(
            code__in=["skat.read_mail", "udbetaling-danmark.apply_pension_supplement"]
        ),
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )


def test_peter_acts_for_karen_until_she_revokes(invitation, people_at):
    peter = people_at("peter")
    page = peter.page

    # Peter accepts.
    peter.login("peter@example.dk", DEMO_PASSWORD)
    peter.click(peter.menu("Fuldmagter"), "powers of attorney with an invitation")
    expect(peter.main()).to_contain_text("Karen Jensen vil give dig en fuldmagt.")
    peter.click(page.get_by_role("link", name=re.compile("Se den, og svar")), "invitation")
    expect(page.locator("h1")).to_have_text("Karen Jensen vil give dig en fuldmagt")
    expect(peter.main()).to_contain_text("Læse post fra Skattestyrelsen")
    peter.click(page.get_by_role("button", name="Acceptér"), "power of attorney accepted")
    expect(page.locator("h1")).to_have_text("Fuldmagt fra Karen Jensen")
    # The tab and the browser history name the power of attorney, not just "Fuldmagt".
    expect(page).to_have_title("Fuldmagt fra Karen Jensen – Fuldmagt")
    expect(page.get_by_role("status")).to_have_text("Du har accepteret fuldmagten fra Karen Jensen.")
    expect(peter.main().locator("dl")).to_contain_text("Aktiv")

    # He acts for her: the banner says so on every page, with the rights he holds.
    peter.click(peter.menu("Handl på vegne af andre"), "act for someone")
    peter.click(
        page.get_by_role("button", name="Handl på vegne af Karen Jensen"), "acting for Karen", docs="act-for"
    )
    banner = page.get_by_role("region", name=re.compile("Du handler på vegne af en anden|Acting for another"))
    expect(banner).to_contain_text("Du handler på vegne af Karen Jensen")
    expect(banner).to_contain_text("Læse post fra Skattestyrelsen")
    expect(banner).to_contain_text("Søge om pensionstillæg")

    # Her digital post: only the letters from the authority he may read for her.
    peter.click(peter.menu("Digital Post"), "Karen's digital post", docs="inbox")
    main = peter.main()
    expect(main).to_contain_text("Vist for Karen Jensen inden for den fuldmagt, du har.")
    letters = main.locator("tbody tr")
    expect(letters).to_have_count(2)
    expect(letters.filter(has_text="Udbetaling Danmark")).to_have_count(0)
    expect(letters.filter(has_text="Københavns Kommune")).to_have_count(0)
    peter.click(page.get_by_role("link", name="Din årsopgørelse for 2025 er klar"), "a letter from skat")
    expect(page.locator("h1")).to_have_text("Din årsopgørelse for 2025 er klar")
    expect(peter.main()).to_contain_text("Du skal betale 1.250 kr. i restskat.")
    expect(peter.main()).to_contain_text("Fra: Skattestyrelsen")
    assert LetterRead.objects.filter(
        reader__email="peter@example.dk", on_behalf_of__email="karen@example.dk"
    ).exists()

    # An application for her, to a service his power of attorney covers.
    peter.click(peter.menu("Ansøgninger"), "Karen's applications")
    expect(peter.main()).to_contain_text("Vist for Karen Jensen")
    peter.click(
        main.get_by_role("listitem").get_by_role("link", name="Folkepension"),
        "apply for a pension supplement",
    )
    expect(page.locator("h1")).to_have_text("Ansøg: Folkepension")
    page.get_by_label("Beskriv din ansøgning").fill("Karen søger om varmetillæg til vinteren.")
    page.get_by_label("Ansøgt tillæg pr. måned (kr.)").fill("450")
    peter.click(page.get_by_role("button", name="Send ansøgningen"), "application sent")
    expect(page.get_by_role("status")).to_have_text("Ansøgningen er sendt til Udbetaling Danmark.")
    expect(peter.main()).to_contain_text("Peter Jensen på vegne af Karen Jensen")
    expect(peter.main()).to_contain_text("450")
    application = Application.objects.get(description__startswith="Karen søger om varmetillæg")
    assert application.on_behalf_of.email == "karen@example.dk"
    assert application.submitted_by.email == "peter@example.dk"

    # Peter goes back to her post and leaves the page open.
    peter.click(peter.menu("Digital Post"), "Karen's digital post again")

    # Karen sees all of it in "done in my name", and revokes.
    karen = people_at("karen")
    kpage = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Gjort i mit navn"), "done in my name", docs="done-in-my-name")
    rows = karen.main().locator("tbody tr")
    expect(rows.filter(has_text="Læste et brev: “Din årsopgørelse for 2025 er klar”")).to_contain_text(
        "Peter Jensen"
    )
    expect(rows.filter(has_text="Sendte en ansøgning")).to_contain_text("Udbetaling Danmark")
    today = timezone.localdate().strftime("%d.%m.%Y")
    expect(rows.first).to_contain_text(today)

    karen.click(karen.menu("Fuldmagter"), "Karen's powers of attorney")
    karen.click(kpage.get_by_role("link", name="Vis Peter Jensen"), "power of attorney for Peter")
    karen.click(kpage.get_by_role("link", name="Tilbagekald"), "revoke")
    expect(kpage.locator("h1")).to_have_text("Tilbagekald fuldmagten")
    kpage.get_by_label("Begrundelse").fill("Jeg klarer det selv igen.")
    karen.click(kpage.get_by_role("button", name="Ja, tilbagekald den"), "confirm your password")
    karen.reauthenticate(DEMO_PASSWORD, "power of attorney revoked")
    expect(kpage.get_by_role("status")).to_have_text("Fuldmagten er tilbagekaldt. Den gælder ikke længere.")
    expect(karen.main().locator("dl")).to_contain_text("Tilbagekaldt")
    expect(karen.main().locator("dl")).to_contain_text("Jeg klarer det selv igen.")
    assert PowerOfAttorney.objects.get(pk=invitation.pk).status == Status.REVOKED

    # Peter's very next click, on a letter still listed on his open page, is refused.
    peter.click(page.get_by_role("link", name="Forskudsopgørelse 2027"), "refused after revocation")
    expect(page.locator("main .alert-warning")).to_have_text(
        re.compile(
            "(Du handler ikke længere på vegne af|You are no longer acting for) Karen Jensen. "
            "Din fuldmagt er ophørt."
        )
    )
    expect(
        page.get_by_role("region", name=re.compile("Du handler på vegne af en anden|Acting for another"))
    ).to_have_count(0)
    expect(peter.main()).not_to_contain_text("Kære Karen Jensen")
    assert not LetterRead.objects.filter(
        letter__subject="Forskudsopgørelse 2027", reader__email="peter@example.dk"
    ).exists()
