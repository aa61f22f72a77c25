"""A parent reads a child's letter by parental custody; the child sees it done in her name; a ward sees
his guardianship and how to complain. Every page is checked with axe-core in Danish and English."""

import re

import pytest
from playwright.sync_api import expect

from authorities.models import LetterRead
from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Until the Danish translations are merged, a new text may still show in English on a Danish page.
CUSTODY = re.compile("Forældremyndighed|Parental custody")


@pytest.fixture
def register(world):
    """The demo's rights marks, and the sample register extract loaded through the real import."""
    demo.seed_legal_representation_rights()
    demo.seed_legal_representatives(world)
    return world


def test_a_parent_reads_the_child_s_letter_by_parental_custody(register, people_at):
    peter = people_at("peter")
    page = peter.page
    peter.login("peter@example.dk", DEMO_PASSWORD)

    peter.click(peter.menu("Handl på vegne af andre"), "act for someone, a child among them")
    entry = peter.main().locator("li", has=page.get_by_role("heading", name="Emma Jensen"))
    expect(entry).to_contain_text(CUSTODY)
    peter.click(page.get_by_role("button", name="Handl på vegne af Emma Jensen"), "acting for Emma")
    banner = page.get_by_role("region", name=re.compile("Du handler på vegne af en anden|Acting for another"))
    expect(banner).to_contain_text("Du handler på vegne af Emma Jensen")
    expect(banner).to_contain_text(CUSTODY)

    peter.click(peter.menu("Digital Post"), "Emma's digital post")
    peter.click(page.get_by_role("link", name="Plads i fritidsklubben fra 1. februar"), "a letter to Emma")
    expect(page.locator("h1")).to_have_text("Plads i fritidsklubben fra 1. februar")
    assert LetterRead.objects.filter(
        reader__email="peter@example.dk", on_behalf_of__email="emma@example.dk"
    ).exists()

    emma = people_at("emma")
    emma.login("emma@example.dk", DEMO_PASSWORD)
    emma.click(emma.menu("Gjort i mit navn"), "done in Emma's name")
    row = emma.main().locator("tbody tr", has_text="Peter Jensen")
    expect(row).to_contain_text(CUSTODY)
    expect(row).to_contain_text("Plads i fritidsklubben")


def test_a_ward_sees_the_guardianship_and_how_to_complain(register, people_at):
    bent = people_at("bent")
    page = bent.page
    bent.login("bent@example.dk", DEMO_PASSWORD)
    bent.click(bent.menu("Fuldmagter"), "Bent's powers of attorney")
    bent.click(
        page.get_by_role(
            "link", name=re.compile("Forældremyndighed og værgemål|Parental custody and guardianship")
        ),
        "Bent's guardianship",
    )
    main = bent.main()
    expect(main).to_contain_text("Lone Olsen")
    expect(main).to_contain_text("FH-2025-004711")
    expect(main.locator("form")).to_have_count(0)
