"""portal.prepared: a queryset compiled once answers like the queryset itself, for one question and
for many at once, and refuses to be built if the ORM lost one of its values."""

import psycopg
import pytest
from django.db import OperationalError, connection
from django.db.models import Q

from portal import prepared
from portal.models import User

from ..factories import UserFactory

pytestmark = pytest.mark.django_db
# Elsewhere (SQLite in development) the same answers come from one query per question.
ONE_STATEMENT_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="many questions are one statement on PostgreSQL"
)


def people_named(*, name: str, at_least: int):
    return (
        User.objects.filter(Q(name=name) | Q(pk__gte=at_least), is_active=True)
        .order_by("pk")
        .values_list("pk")
    )


@pytest.fixture
def statement():
    return prepared.Statement(people_named, name=prepared.TEXT, at_least=prepared.NUMBER)


def test_a_statement_answers_as_its_queryset(statement):
    ann, bo, _ = UserFactory(name="Ann"), UserFactory(name="Bo"), UserFactory(name="Cy")
    assert statement.rows(name="Ann", at_least=bo.pk) == list(people_named(name="Ann", at_least=bo.pk))
    assert {pk for (pk,) in statement.rows(name="Ann", at_least=bo.pk)} >= {ann.pk, bo.pk}
    assert statement.rows(name="Nobody", at_least=10**9) == []


@ONE_STATEMENT_ON_POSTGRESQL
def test_many_questions_are_answered_in_one_statement_each_row_with_its_question(
    statement, django_assert_num_queries
):
    ann, bo = UserFactory(name="Ann"), UserFactory(name="Bo")
    questions = {"name": ["Bo", "Nobody", "Ann"], "at_least": [10**9, 10**9, 10**9]}
    with django_assert_num_queries(1):
        rows = statement.rows_for_many(questions)
    assert sorted(rows) == [(0, bo.pk), (2, ann.pk)]


def test_values_shared_by_many_questions_are_given_once(statement):
    ann, bo = UserFactory(name="Ann"), UserFactory(name="Bo")
    rows = statement.rows_for_many({"name": ["Ann", "Nobody"]}, at_least=bo.pk)
    assert sorted(rows) == [(0, ann.pk), (0, bo.pk), (1, bo.pk)]


def test_no_questions_ask_nothing(statement, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert statement.rows_for_many({"name": [], "at_least": []}) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL runs the compiled SQL")
def test_a_value_the_queryset_does_not_use_is_refused_when_the_statement_is_built():
    def ignores_the_name(*, name: str, at_least: int):
        return User.objects.filter(pk__gte=at_least).values_list("pk")

    with pytest.raises(RuntimeError, match="name"):
        prepared.Statement(ignores_the_name, name=prepared.TEXT, at_least=prepared.NUMBER)


def test_value_names_must_be_identifiers():
    with pytest.raises(ValueError, match="identifiers"):
        prepared.Statement(people_named, **{'name"; --': prepared.TEXT})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_keeps_the_statement_prepared_for_the_connection(statement):
    UserFactory(name="Ann")
    for _ in range(3):
        statement.rows(name="Ann", at_least=10**9)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [text for (text,) in cursor.fetchall() if '"portal_user"."name" = $' in text]
    assert len(prepared) == 1


# With CONN_HEALTH_CHECKS Django sends SELECT 1 before a request's first query; a read that is the
# first query stands in for it (see prepared._read). These tests set the connection up as Django
# does at the start of a request, outside a transaction, as a decision runs.
HEALTH_CHECK_DUE = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections")


@pytest.fixture
def at_a_request_start():
    """Call it to make the connection look as at the start of a request: its health check due."""

    def health_check_due():
        connection.ensure_connection()
        connection.health_check_enabled, connection.health_check_done = True, False

    yield health_check_due
    connection.health_check_enabled = connection.settings_dict["CONN_HEALTH_CHECKS"]


def drop_from_the_server(pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@HEALTH_CHECK_DUE
@pytest.mark.django_db(transaction=True)
def test_a_read_due_for_the_health_check_sends_no_select_1(statement, at_a_request_start, monkeypatch):
    ann = UserFactory(name="Ann")
    at_a_request_start()
    monkeypatch.setattr(connection, "is_usable", lambda: pytest.fail("a health check was sent"))
    assert statement.rows(name="Ann", at_least=10**9) == [(ann.pk,)]
    assert connection.health_check_done


@HEALTH_CHECK_DUE
@pytest.mark.django_db(transaction=True)
def test_a_read_on_a_connection_the_database_dropped_is_asked_again_on_a_new_one(
    statement, at_a_request_start
):
    ann = UserFactory(name="Ann")
    at_a_request_start()
    dropped = connection.connection.info.backend_pid
    drop_from_the_server(dropped)
    assert statement.rows(name="Ann", at_least=10**9) == [(ann.pk,)]
    assert connection.connection.info.backend_pid != dropped


@HEALTH_CHECK_DUE
@pytest.mark.django_db(transaction=True)
def test_many_questions_on_a_dropped_connection_are_asked_again_too(statement, at_a_request_start):
    ann = UserFactory(name="Ann")
    at_a_request_start()
    drop_from_the_server(connection.connection.info.backend_pid)
    assert statement.rows_for_many({"name": ["Ann"]}, at_least=10**9) == [(0, ann.pk)]


@HEALTH_CHECK_DUE
@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_not_asked_again_once_its_check_was_done(statement):
    UserFactory(name="Ann")
    connection.ensure_connection()
    connection.health_check_done = True  # this request's first query already went through it
    drop_from_the_server(connection.connection.info.backend_pid)
    with pytest.raises(OperationalError):
        statement.rows(name="Ann", at_least=10**9)
    connection.close()
