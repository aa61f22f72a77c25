import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from authorities.models import Consent, ConsentRequest, ConsentRequestStatus, ConsentStatus
from portal import demo
from portal.demo import DEMO_PASSWORD

from .support import danish_date

pytestmark = pytest.mark.browser


def test_karen_answers_a_request_for_consent(world, people_at):
    demo.seed_consents(world)  # Københavns Kommune asks; Udbetaling Danmark already has her consent
    karen = people_at("karen")
    page = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Samtykker"), "consents with a request", docs="consents")
    request_card = karen.main().locator(".card")
    expect(request_card).to_have_count(1)
    expect(request_card.get_by_role("heading")).to_have_text("Københavns Kommune beder om dit samtykke")
    expect(request_card).to_contain_text("Indkomstoplysninger fra Skattestyrelsen")
    expect(request_card).to_contain_text("Vi skal beregne, hvor meget du skal betale for hjemmepleje.")
    expect(request_card).to_contain_text("180 dage fra det tidspunkt, du siger ja")

    karen.click(request_card.get_by_role("button", name="Ja, jeg giver samtykke"), "consent given")
    expect(page.get_by_role("status")).to_have_text(
        "Du har givet dit samtykke. Du kan altid trække det tilbage."
    )
    expect(karen.main()).to_contain_text("Der er ingen anmodninger, der venter.")
    in_force = karen.main().get_by_role("table").first.locator("tbody tr")
    expect(in_force).to_have_count(2)
    row = in_force.filter(has_text="Københavns Kommune")
    consent = Consent.objects.get(authority__slug="kobenhavns-kommune")
    # 180 days from the moment she said yes, shown as a date in Copenhagen (late in the evening in
    # winter that moment plus 180 days is already the next day in summer time).
    assert consent.valid_until - consent.valid_from == datetime.timedelta(days=180)
    expect(row).to_contain_text(danish_date(timezone.localdate(consent.valid_until)))

    assert consent.status == ConsentStatus.GRANTED
    assert consent.given_by.email == "karen@example.dk"
    assert (
        ConsentRequest.objects.get(authority__slug="kobenhavns-kommune").status
        == ConsentRequestStatus.GRANTED
    )

    # She can take it back again at once.
    karen.click(row.get_by_role("link", name=re.compile("^Træk tilbage")), "withdraw consent")
    karen.click(page.get_by_role("button", name="Ja, træk det tilbage"), "consent withdrawn")
    expect(page.get_by_role("status")).to_have_text("Samtykket er trukket tilbage. Det gælder ikke længere.")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.WITHDRAWN
