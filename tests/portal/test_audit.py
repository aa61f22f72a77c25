import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from portal.audit import record_event, verify_chain
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The append-only trigger exists only on PostgreSQL"
)


@pytest.fixture
def events(karen):
    return [record_event(action="letter.read", actor=karen, details={"n": n}) for n in range(5)]


def test_each_event_carries_the_hash_of_the_one_before(events):
    for previous, event in zip(events, events[1:], strict=False):
        assert event.previous_hash == previous.hash
    assert verify_chain() is None


def test_verify_audit_reports_an_intact_chain(events, capsys):
    call_command("verify_audit")
    assert "intact: 5 events" in capsys.readouterr().out


def test_verify_audit_names_the_first_edited_event(events):
    import pgtrigger

    with pgtrigger.ignore("portal.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=events[2].pk).update(action="test.forged")
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    assert f"event {events[2].pk} " in str(error.value)


def test_verify_audit_notices_a_deleted_event(events):
    import pgtrigger

    with pgtrigger.ignore("portal.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert verify_chain() == AuditEvent.objects.get(pk=events[2].pk)


@postgres_only
def test_the_database_refuses_to_update_an_audit_event(events):
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(action="test.forged")


@postgres_only
def test_the_database_refuses_to_delete_an_audit_event(events):
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
