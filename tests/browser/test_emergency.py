import pytest
from playwright.sync_api import expect

from attorney import services
from attorney.models import EmergencyRequest, EmergencyStatus
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_ole_asks_for_an_emergency_power_of_attorney_and_karen_is_asked_at_login(world, people_at):
    ole = people_at("ole")
    page = ole.page
    ole.login("ole@example.dk", DEMO_PASSWORD)
    ole.goto("/fuldmagter/handl-for/", "act for someone, with the emergency link")
    ole.click(ole.main().get_by_role("link", name="Anmod om en akut fuldmagt"), "emergency request form")
    page.get_by_label("CPR-nummer på personen, der ikke selv kan handle").fill("010245-1234")
    page.get_by_label("Personens fulde navn").fill("Karen Jensen")
    page.get_by_label("Københavns Kommune").check()
    page.get_by_label("Hvor mange dage").fill("45")
    ole.click(page.get_by_role("button", name="Send anmodningen"), "emergency request with errors")
    expect(ole.main()).to_contain_text("Hvorfor kan personen ikke selv handle?")
    assert not EmergencyRequest.objects.exists()

    page.get_by_label("Hvor mange dage").fill("14")
    page.get_by_label("Hvorfor kan personen ikke selv handle?").fill("Karen er indlagt efter et fald.")
    ole.click(page.get_by_role("button", name="Send anmodningen"), "emergency request sent")
    expect(page.get_by_role("status")).to_have_text("Din anmodning er sendt til Borgerservice.")
    emergency = EmergencyRequest.objects.get()
    assert emergency.status == EmergencyStatus.AWAITING_FIRST

    services.approve_emergency_request(
        emergency_request=emergency, acting_user=world["sagsbehandler.kk@example.dk"]
    )
    services.approve_emergency_request(
        emergency_request=emergency, acting_user=world["borgerservice@example.dk"]
    )

    karen = people_at("karen")
    kpage = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD, name="login, then the emergency question")
    expect(kpage.locator("h1")).to_have_text("Akut fuldmagt til Ole Hansen")
    karen.click(
        kpage.get_by_role("button", name="Giv Ole Hansen en almindelig fuldmagt i stedet"),
        "grant form filled in",
    )
    expect(kpage.get_by_label("Fuldmagtshaverens CPR-nummer")).to_have_value("2308603456")
    expect(kpage.get_by_label("Læse post fra Københavns Kommune")).to_be_checked()
