"""An accountancy firm as attorney: its employee acts for a client and reads her tax letter; the
client sees in "done in my name" who read it.

The organisation, its members, the client's power of attorney and the employee's access are set up
through the services, as the firm's administrator and the client would. New wording is matched in
Danish or English, as translations are merged separately.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attorney import services as attorney_services
from authorities.models import Authority, LetterRead, Right
from authorities.post import services as post_services
from organisations import services as organisation_services
from organisations.models import Role
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TAX_LETTER = "Din årsopgørelse for 2025 er klar"


@pytest.fixture
def accountant(world):
    """Revisorhuset A/S, registered by the service desk; Anne its administrator, Bo an employee.
    Karen has given it a power of attorney for her tax letters and statement, Anne has accepted it
    and let Bo use it, and Skattestyrelsen has written to Karen."""
    karen, anne, bo = (
        world[email] for email in ("karen@example.dk", "anne.revisor@example.dk", "bo.bogholder@example.dk")
    )
    organisation, code = organisation_services.register_organisation(
        acting_user=world["sagsbehandler.kk@example.dk"],
        cvr="12345674",
        name="Revisorhuset A/S",
        administrator_national_id=anne.national_id,
        administrator_name=anne.name,
        administrator_email=anne.email,
    )
    organisation_services.join_organisation(acting_user=anne, code=code)
    _invitation, code = organisation_services.invite_member(
        acting_user=anne, organisation=organisation, name=bo.name, email=bo.email, role=Role.EMPLOYEE
    )
    membership = organisation_services.join_organisation(acting_user=bo, code=code)
    now = timezone.now()
    mandate = attorney_services.grant_power_of_attorney_to_organisation(
        acting_user=karen,
        cvr=organisation.cvr,
        organisation_name=organisation.name,
        rights=Right.objects.filter(code__in=["skat.read_mail", "skat.view_tax_assessment"]),
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )
    mandate = attorney_services.accept(power_of_attorney=mandate, acting_user=anne)
    attorney_services.give_organisation_access(
        acting_user=anne, membership=membership, power_of_attorney=mandate
    )
    skat, kommune = Authority.objects.get(slug="skat"), Authority.objects.get(slug="kobenhavns-kommune")
    post_services.send_letter(
        authority=skat,
        citizen=karen,
        subject=TAX_LETTER,
        body="Kære Karen Jensen\n\nDin årsopgørelse for 2025 er nu klar.\n\nVenlig hilsen\nSkattestyrelsen",
    )
    post_services.send_letter(
        authority=kommune,
        citizen=karen,
        subject="Besøg fra hjemmeplejen",
        body="Kære Karen Jensen\n\nHjemmeplejen kommer tirsdag kl. 10.\n\nVenlig hilsen\nKøbenhavns Kommune",
    )
    return organisation


def test_an_accountants_employee_reads_the_clients_tax_letter_and_she_sees_it(accountant, people_at):
    bo = people_at("bo")
    page = bo.page
    bo.login("bo.bogholder@example.dk", DEMO_PASSWORD)

    # Karen is among the people he can act for, through the firm.
    bo.click(bo.menu("Handl på vegne af andre"), "act for someone")
    expect(bo.main()).to_contain_text("Karen Jensen")
    bo.click(page.get_by_role("button", name="Handl på vegne af Karen Jensen"), "acting for Karen")

    # The banner names him, her and the firm he acts through.
    banner = page.get_by_role("region", name=re.compile("Du handler på vegne af en anden|Acting for another"))
    expect(banner).to_contain_text(re.compile(r"Bo Bogholder.*Karen Jensen.*Revisorhuset A/S"))
    expect(banner).to_contain_text("Læse post fra Skattestyrelsen")

    # Her digital post: only her letters from Skattestyrelsen.
    bo.click(bo.menu("Digital Post"), "Karen's digital post")
    letters = bo.main().locator("tbody tr")
    expect(letters).to_have_count(1)
    expect(letters.filter(has_text="Københavns Kommune")).to_have_count(0)
    bo.click(page.get_by_role("link", name=TAX_LETTER), "Karen's tax letter")
    expect(page.locator("h1")).to_have_text(TAX_LETTER)
    expect(bo.main()).to_contain_text("Din årsopgørelse for 2025 er nu klar.")
    assert LetterRead.objects.filter(
        reader__email="bo.bogholder@example.dk", on_behalf_of__email="karen@example.dk"
    ).exists()

    # Karen sees in "done in my name" that Bo read it.
    karen = people_at("karen")
    karen.login("karen@example.dk", DEMO_PASSWORD)
    karen.click(karen.menu("Gjort i mit navn"), "done in my name")
    read = karen.main().locator("tbody tr").filter(has_text=f"Læste et brev: “{TAX_LETTER}”")
    expect(read).to_have_count(1)
    expect(read).to_contain_text("Bo Bogholder")
