"""Legal representatives decided for many questions together (``authorize_many_by_cpr``, the API's
batch) exactly as one by one: the permit by custody or guardianship, and every reason it gives."""

import datetime

import pytest

from attorney import policy
from attorney.policy import Question
from authorities.models import CitizenFileUserObjectPermission

from .conftest import BENT, EMMA, LONE, custody_line, guardianship_line, run_import

pytestmark = pytest.mark.django_db

KAREN, PETER = "0102451234", "1503752345"


def one_by_one(questions: list[Question]) -> list[policy.Decision]:
    return [
        policy.authorize_by_cpr(
            actor_national_id=q.actor_national_id,
            principal_national_id=q.principal_national_id,
            right=q.right,
            at=q.at,
        )
        for q in questions
    ]


def test_legal_representatives_are_decided_together_as_one_by_one(
    catalogue, karen, peter, emma, bent, lone, unmarked_right
):
    run_import(custody_line(EMMA, PETER), guardianship_line(BENT, LONE, scope="personal"))
    questions = [
        Question(PETER, EMMA, catalogue["read_mail"]),  # custody covers it
        Question(PETER, EMMA, catalogue["tax_statement"]),  # custody does not cover it
        # A guardianship of personal matters covers none of Skat's rights: Skat learns nothing of it.
        Question(LONE, BENT, catalogue["tax_statement"]),
        Question(LONE, BENT, catalogue["kommune_mail"]),  # inside it
        Question(PETER, EMMA, unmarked_right),  # custody covers no right of that kind
        Question(KAREN, EMMA, catalogue["read_mail"]),  # no relation at all
        Question(PETER, EMMA, catalogue["read_mail"], at=datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)),
    ]
    together = policy.authorize_many_by_cpr(questions)
    assert together == one_by_one(questions)
    assert [d.reason for d in together] == [
        "parental_custody",
        "custody_does_not_cover",
        "no_power_of_attorney",
        "guardianship",
        "custody_does_not_cover",
        "no_power_of_attorney",
        "child_came_of_age",
    ]


def test_a_representation_without_its_permission_row_permits_nothing(catalogue, peter, emma):
    run_import(custody_line(EMMA, PETER))
    CitizenFileUserObjectPermission.all_rows.filter(representation__isnull=False).delete()
    questions = [Question(PETER, EMMA, catalogue["read_mail"])]
    assert policy.authorize_many_by_cpr(questions) == one_by_one(questions)
    assert not policy.authorize_many_by_cpr(questions)[0].permitted
