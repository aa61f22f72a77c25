"""A denial by CPR number costs two statements (the fast path, then the pair's history), and many
questions asked together (``authorize_many_by_cpr``, the API's batch) get exactly the answers they
get one by one, in two statements for all of them."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from attorney import policy, services
from attorney.policy import Question

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
# Elsewhere (SQLite in development) the same answers come from one query per question.
ONE_STATEMENT_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="many questions are one statement on PostgreSQL"
)

KAREN, PETER, OLE = "0102451234", "1503752345", "2308603456"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def tax_card(skat):
    return RightFactory(service=ServiceFactory(authority=skat, slug="skattekort"), code="skat.tax_card")


@pytest.fixture
def histories(karen, peter, ole, read_mail, tax_statement, kommune_mail, time_machine):
    """Karen → Peter: in force with read_mail and the tax statement; Ole → Peter: revoked; Peter →
    Karen: expired; Ole → Karen: not valid yet; Karen → Ole: the other authority's right only."""
    time_machine.move_to(timezone.now() - 30 * DAY)
    ended = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, tax_statement]), acting_user=peter
    )
    revoked = services.accept(power_of_attorney=grant(ole, peter, [read_mail]), acting_user=peter)
    expired = services.accept(power_of_attorney=grant(peter, karen, [read_mail], days=10), acting_user=karen)
    services.accept(power_of_attorney=grant(ole, karen, [read_mail], start_in_days=60), acting_user=karen)
    services.accept(power_of_attorney=grant(karen, ole, [kommune_mail]), acting_user=ole)
    time_machine.move_to(timezone.now() + 30 * DAY)
    services.revoke(power_of_attorney=revoked, acting_user=ole)
    return {"in_force": ended, "revoked": revoked, "expired": expired}


def questions_about(read_mail, tax_statement, tax_card, kommune_mail) -> list[Question]:
    long_ago = timezone.now() - 25 * DAY
    return [
        Question(PETER, KAREN, read_mail),  # permit
        Question(PETER, KAREN, tax_card),  # right not granted
        Question(PETER, OLE, read_mail),  # revoked
        Question(KAREN, PETER, read_mail),  # expired
        Question(KAREN, OLE, read_mail),  # not valid yet
        Question(OLE, KAREN, read_mail),  # a mandate only with another authority's right
        Question(KAREN, "1111111118", read_mail),  # nobody verified holds that number
        Question(KAREN, KAREN, read_mail),  # oneself
        Question(PETER, OLE, read_mail, at=long_ago),  # before it was revoked: from history
        Question(KAREN, PETER, read_mail, at=long_ago),  # before it expired
        Question(PETER, KAREN, kommune_mail),  # the other authority: nothing there
    ]


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


def test_many_questions_together_get_the_answers_they_get_one_by_one(
    histories, read_mail, tax_statement, tax_card, kommune_mail
):
    questions = questions_about(read_mail, tax_statement, tax_card, kommune_mail)
    together = policy.authorize_many_by_cpr(questions)
    assert together == one_by_one(questions)
    assert [d.reason for d in together] == [
        "power_of_attorney",
        "right_not_granted",
        "revoked",
        "expired",
        "not_yet_valid",
        "no_power_of_attorney",
        "no_power_of_attorney",
        "self",
        "power_of_attorney",
        "power_of_attorney",
        "no_power_of_attorney",
    ]


@ONE_STATEMENT_ON_POSTGRESQL
def test_many_questions_take_two_statements_for_all_of_them(
    histories, read_mail, tax_statement, tax_card, kommune_mail, django_assert_max_num_queries
):
    questions = questions_about(read_mail, tax_statement, tax_card, kommune_mail) * 9
    with django_assert_max_num_queries(2):
        decisions = policy.authorize_many_by_cpr(questions)
    assert len(decisions) == len(questions)


@ONE_STATEMENT_ON_POSTGRESQL
def test_only_permits_take_one_statement_for_all_of_them(histories, read_mail, django_assert_num_queries):
    with django_assert_num_queries(1):
        decisions = policy.authorize_many_by_cpr([Question(PETER, KAREN, read_mail)] * 50)
    assert all(d.permitted and d.power_of_attorney == histories["in_force"] for d in decisions)


def test_a_denial_by_cpr_number_takes_the_fast_path_and_one_statement_of_history(
    histories, read_mail, django_assert_num_queries
):
    with django_assert_num_queries(2):
        decision = policy.authorize_by_cpr(
            actor_national_id=PETER, principal_national_id=OLE, right=read_mail
        )
    assert decision.reason == "revoked"


def test_the_mandate_a_denial_names_loads_the_rest_of_itself_when_asked(histories, read_mail, ole):
    decision = policy.authorize_by_cpr(actor_national_id=PETER, principal_national_id=OLE, right=read_mail)
    revoked = histories["revoked"]
    revoked.refresh_from_db()
    assert decision.power_of_attorney == revoked
    assert decision.power_of_attorney.ended_at == revoked.ended_at
    assert decision.power_of_attorney.grantor == ole  # not read by the decision: loaded now
    assert decision.power_of_attorney.end_reason == revoked.end_reason


def test_an_inactive_attorney_is_denied_together_as_one_by_one(histories, peter, read_mail):
    peter.is_active = False
    peter.save()
    questions = [Question(PETER, KAREN, read_mail), Question(PETER, OLE, read_mail)]
    assert policy.authorize_many_by_cpr(questions) == one_by_one(questions)
    assert [d.reason for d in policy.authorize_many_by_cpr(questions)] == ["no_power_of_attorney"] * 2


def test_a_person_sharing_a_number_with_an_unverified_account_is_decided_by_the_verified_one(
    histories, read_mail
):
    UserFactory(national_id=PETER, unverified=True)
    questions = [Question(PETER, KAREN, read_mail), Question(PETER, OLE, read_mail)]
    assert [d.reason for d in policy.authorize_many_by_cpr(questions)] == ["power_of_attorney", "revoked"]
    assert policy.authorize_many_by_cpr(questions) == one_by_one(questions)
