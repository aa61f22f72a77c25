import json

import pytest

from authorities.catalogue.models import Matters
from representation import services

from ..factories import AuthorityFactory, RightFactory, ServiceFactory, UserFactory

# Emma is 12 at the time of the tests' clock in 2026 (born 14 June 2012: the 7th digit 4 and year 12
# put her in the 2000s); she turns 18 at midnight on 14 June 2030, Danish summer time.
EMMA = "1406124321"
BENT = "0507484321"  # born 1948
LONE = "2209791678"  # born 1979
MARIA = "0304801234"  # Emma's mother, born 1980


@pytest.fixture
def catalogue(read_mail, tax_statement, kommune_mail):
    """The tests' catalogue, marked for legal representatives as the demo's is."""
    read_mail.matters, read_mail.for_custodians = Matters.FINANCIAL, True
    read_mail.save()
    tax_statement.matters, tax_statement.for_custodians = Matters.FINANCIAL, False
    tax_statement.save()
    kommune_mail.matters, kommune_mail.for_custodians = Matters.PERSONAL, True
    kommune_mail.save()
    return {"read_mail": read_mail, "tax_statement": tax_statement, "kommune_mail": kommune_mail}


@pytest.fixture
def family_court(db):
    return AuthorityFactory(
        slug="familieretshuset", name_da="Familieretshuset", name_en="Agency of Family Law"
    )


@pytest.fixture
def unmarked_right(skat):
    return RightFactory(
        service=ServiceFactory(authority=skat, slug="forskud"), code="skat.change_preliminary"
    )


@pytest.fixture
def emma(db):
    return UserFactory(name="Emma Jensen", national_id=EMMA, email="emma@example.dk")


@pytest.fixture
def bent(db):
    return UserFactory(name="Bent Olsen", national_id=BENT, email="bent@example.dk")


@pytest.fixture
def lone(db):
    return UserFactory(name="Lone Olsen", national_id=LONE, email="lone@example.dk")


@pytest.fixture
def maria(db):
    return UserFactory(name="Maria Jensen", national_id=MARIA, email="maria@example.dk")


def custody_line(child, custodian, *, start="2012-06-14", to=None, sequence=1):
    return json.dumps(
        {
            "type": "parental_custody",
            "child": child,
            "custodian": custodian,
            "from": start,
            "to": to,
            "sequence": sequence,
        }
    )


def guardianship_line(
    ward, guardian, *, scope="financial", start="2025-03-01", to=None, sequence=1, reference="FH-1"
):
    return json.dumps(
        {
            "type": "guardianship",
            "ward": ward,
            "guardian": guardian,
            "scope": scope,
            "reference": reference,
            "from": start,
            "to": to,
            "sequence": sequence,
        }
    )


def run_import(*lines):
    return services.import_register_extract(lines=list(lines), file_name="extract.jsonl")


@pytest.fixture
def custody(catalogue, emma, peter):
    run_import(custody_line(EMMA, peter.national_id))


@pytest.fixture
def guardianship(catalogue, bent, lone):
    run_import(guardianship_line(BENT, LONE))
