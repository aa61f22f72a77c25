"""Karen appoints Peter and Ole to act together on applications; Peter applies, Ole approves."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services as attorney_services
from attorney.models import JointAppointment, JointMode
from authorities.applications import services as applications_services
from authorities.models import Application, ApplicationStatus, Service
from portal.demo import DEMO_PASSWORD
from portal.models import User

pytestmark = pytest.mark.browser

# The new words are translated when the catalogue is merged; until then the page may be in English.
SECOND_CPR = re.compile("Den anden fuldmagtshavers CPR-nummer|The second attorney's CPR number")
SECOND_NAME = re.compile("Den anden fuldmagtshavers fulde navn|The second attorney's full name")
TOGETHER = re.compile("Sammen om ansøgninger|Together on applications")


def test_two_attorneys_appointed_jointly_approve_each_others_applications(world, people_at):
    karen = people_at("karen")
    page = karen.page
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Fuldmagter"), "powers of attorney, none yet")
    karen.click(page.get_by_role("link", name="Giv en fuldmagt"), "give a power of attorney to two")

    until = timezone.localdate() + datetime.timedelta(days=365)
    page.get_by_label("Fuldmagtshaverens CPR-nummer").fill("150375-2345")
    page.get_by_label("Fuldmagtshaverens fulde navn").fill("Peter Jensen")
    page.get_by_label(SECOND_CPR).fill("230860-3456")
    page.get_by_label(TOGETHER).check()
    page.get_by_label("Søge om pensionstillæg").check()
    page.get_by_label("Gyldig til og med").fill(until.isoformat())
    # The second attorney's name is missing: the error is shown at the field.
    karen.click(page.get_by_role("button", name="Fortsæt til oversigten"), "second attorney without a name")
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label(SECOND_NAME).fill("Ole Hansen")
    karen.click(page.get_by_role("button", name="Fortsæt til oversigten"), "check and confirm, two attorneys")
    expect(karen.main()).to_contain_text("Ole Hansen (230860-****)")
    karen.click(page.get_by_role("button", name="Bekræft og giv fuldmagten"), "confirm your password")
    karen.reauthenticate(DEMO_PASSWORD, "two powers of attorney created")
    appointment = JointAppointment.objects.get()
    assert appointment.mode == JointMode.JOINTLY
    assert sorted(m.attorney.name for m in appointment.mandates.all()) == ["Ole Hansen", "Peter Jensen"]

    for mandate in appointment.mandates.all():
        attorney_services.accept(power_of_attorney=mandate, acting_user=mandate.attorney)
    peter, ole, karen_user = (User.objects.get(email=f"{n}@example.dk") for n in ("peter", "ole", "karen"))
    application = applications_services.submit_application(
        acting_user=peter,
        principal=karen_user,
        service=Service.objects.get(
            application_form__right__code="udbetaling-danmark.apply_pension_supplement"
        ),
        description="Karen søger om varmetillæg.",
        amount=450,
    )
    assert application.status == ApplicationStatus.ON_HOLD

    ole_browser = people_at("ole")
    opage = ole_browser.page
    ole_browser.login("ole@example.dk", DEMO_PASSWORD)
    ole_browser.click(ole_browser.menu("Handl på vegne af andre"), "act for someone")
    ole_browser.click(opage.get_by_role("button", name="Handl på vegne af Karen Jensen"), "acting for Karen")
    ole_browser.click(ole_browser.menu("Ansøgninger"), "Karen's applications, one waiting")
    ole_browser.click(
        opage.get_by_role("table").get_by_role("link", name="Folkepension"),
        "an application waiting for approval",
    )
    ole_browser.click(
        opage.get_by_role("button", name=re.compile("Godkend og send|Approve and send")), "approved and sent"
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.approved_by == ole
    expect(ole_browser.main()).to_contain_text("Ole Hansen")
    expect(opage.get_by_role("button", name=re.compile("Godkend og send|Approve and send"))).to_have_count(0)
    assert Application.objects.count() == 1
