import base64

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from authorities.clients.services import create_api_client
from authorities.models import AuthorityEvent
from portal import merkle, tlog
from portal.audit import entry_bytes, record_event
from portal.models import AuditCheckpoint, AuditEvent, AuditLogLeaf, AuditLogNode, AuditLogQueue
from portal.signednote import Checkpoint, Signer, open_checkpoint

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The append-only triggers exist only on PostgreSQL"
)
ALL_TRIGGERS = (
    "portal.AuditEvent:audit_append_only",
    "portal.AuditLogLeaf:log_leaf_append_only",
    "portal.AuditLogNode:log_node_append_only",
    "portal.AuditCheckpoint:log_checkpoint_append_only",
)


@pytest.fixture
def events(karen):
    written = [
        record_event(action="api.decision", actor=karen, principal=karen, details={"n": n}) for n in range(5)
    ]
    tlog.sequence()
    return written


@pytest.fixture
def earlier_checkpoint(events, tmp_path):
    """The latest checkpoint, as an authority would have kept it from its event feed."""
    path = tmp_path / "checkpoint.txt"
    path.write_text(tlog.latest_checkpoint().note)
    return path


def verify(*checkpoints) -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_audit", *[f"--checkpoint={path}" for path in checkpoints])
    return str(error.value)


def test_a_written_event_waits_for_the_sequencer(karen):
    event = record_event(action="api.decision", actor=karen)
    assert AuditLogQueue.objects.filter(event=event).exists()
    assert not AuditLogLeaf.objects.filter(event=event).exists()
    assert event.hash == merkle.leaf_hash(entry_bytes(event)).hex()


def test_the_sequencer_gives_consecutive_entries_in_batches_and_signs_each(karen):
    written = [record_event(action="api.decision", actor=karen, details={"n": n}) for n in range(5)]
    tlog.sequence(batch_size=2)
    assert list(AuditLogLeaf.objects.order_by("index").values_list("index", "event_id")) == [
        (n, event.pk) for n, event in enumerate(written)
    ]
    assert list(AuditCheckpoint.objects.order_by("tree_size").values_list("tree_size", flat=True)) == [
        2,
        4,
        5,
    ]
    assert not AuditLogQueue.objects.exists()


def test_an_entry_is_sequenced_only_once(events):
    assert tlog.sequence() is None
    assert AuditLogLeaf.objects.count() == 5


def test_the_checkpoint_is_a_signed_c2sp_note_over_the_trees_root(events):
    latest = tlog.latest_checkpoint()
    checkpoint = open_checkpoint(latest.note, tlog.verifier(), "fuldmagt.localhost/audit-log")
    leaves = [merkle.leaf_hash(entry_bytes(event)) for event in events]
    assert checkpoint.size == 5
    assert checkpoint.root_hash == merkle.range_hash(0, 5, merkle.extend(0, {}, leaves))


def test_an_entry_names_people_by_id_not_cpr_number(karen):
    event = record_event(action="letter.read", actor=karen, principal=karen)
    assert karen.national_id not in entry_bytes(event).decode()


def test_every_inclusion_proof_from_the_database_verifies_against_the_checkpoint(karen):
    for n in range(11):
        record_event(action="api.decision", actor=karen, details={"n": n})
        tlog.sequence()
    root = bytes(tlog.latest_checkpoint().root_hash)
    for leaf in AuditLogLeaf.objects.select_related("event"):
        proof = tlog.inclusion_proof(leaf.index, 11)
        assert merkle.verify_inclusion(leaf.index, 11, merkle.leaf_hash(entry_bytes(leaf.event)), proof, root)


def test_every_checkpoint_is_consistent_with_every_later_one(karen):
    for n in range(9):
        record_event(action="api.decision", actor=karen, details={"n": n})
        tlog.sequence()
    checkpoints = list(AuditCheckpoint.objects.order_by("tree_size"))
    for old in checkpoints:
        for new in checkpoints:
            if old.tree_size <= new.tree_size:
                proof = tlog.consistency_proof(old.tree_size, new.tree_size)
                assert merkle.verify_consistency(
                    old.tree_size, new.tree_size, proof, bytes(old.root_hash), bytes(new.root_hash)
                )


def test_a_proof_beyond_the_latest_checkpoint_is_refused(events):
    with pytest.raises(merkle.ProofError):
        tlog.inclusion_proof(2, 6)


def test_verify_audit_reports_an_intact_log(events, earlier_checkpoint, capsys):
    record_event(action="api.decision", actor=None)
    tlog.sequence()
    call_command("verify_audit", f"--checkpoint={earlier_checkpoint}")
    out = capsys.readouterr().out
    assert "intact: 6 entries" in out
    assert "consistent extension of the checkpoint of size 5" in out


def test_verify_audit_names_a_rewritten_entry(events):
    with pgtrigger.ignore(*ALL_TRIGGERS):
        AuditEvent.objects.filter(pk=events[2].pk).update(action="test.forged")
    assert "Entry 2 " in verify()


def test_verify_audit_names_a_deleted_middle_entry(events):
    with pgtrigger.ignore(*ALL_TRIGGERS):
        AuditLogLeaf.objects.filter(index=2).delete()
        AuditEvent.objects.filter(pk=events[2].pk).delete()
    assert "Entry 2 is missing" in verify()


def test_verify_audit_names_a_truncated_tail_against_an_earlier_checkpoint(events, earlier_checkpoint):
    with pgtrigger.ignore(*ALL_TRIGGERS):
        AuditCheckpoint.objects.filter(tree_size__gt=3).delete()
        AuditLogNode.objects.filter(level=0, index__gte=3).delete()
        AuditLogLeaf.objects.filter(index__gte=3).delete()
        AuditEvent.objects.filter(pk__in=[events[3].pk, events[4].pk]).delete()
    assert "Entries 3 to 4 are missing" in verify(earlier_checkpoint)


def test_a_recomputed_and_resigned_tree_is_caught_only_by_a_checkpoint_held_outside(
    events, earlier_checkpoint
):
    # Whoever holds the database and the key rewrites an entry, rebuilds the tree and signs it anew.
    with pgtrigger.ignore(*ALL_TRIGGERS):
        forged = AuditEvent.objects.get(pk=events[1].pk)
        forged.action = "test.forged"
        forged_hash = merkle.leaf_hash(entry_bytes(forged)).hex()
        AuditEvent.objects.filter(pk=forged.pk).update(action="test.forged", hash=forged_hash)
        AuditCheckpoint.objects.all().delete()
        AuditLogNode.objects.all().delete()
        AuditLogLeaf.objects.all().delete()
    AuditLogQueue.objects.bulk_create([AuditLogQueue(event=event) for event in events])
    tlog.sequence()
    call_command("verify_audit")  # the log agrees with itself ...
    message = verify(earlier_checkpoint)  # ... but not with what an authority kept
    assert (
        "The first 5 entries are not the ones the checkpoint held outside of size 5 was signed over"
        in message
    )
    assert "not a consistent extension of the checkpoint of size 5" in message


def test_checkpoints_held_outside_narrow_down_where_a_recomputed_log_was_changed(karen, tmp_path):
    kept = []
    for n in range(6):
        record_event(action="api.decision", actor=karen, details={"n": n})
        tlog.sequence()
        kept.append(tmp_path / f"checkpoint-{n + 1}.txt")
        kept[-1].write_text(tlog.latest_checkpoint().note)
    with pgtrigger.ignore(*ALL_TRIGGERS):
        forged = AuditEvent.objects.get(details__n=4)
        forged.action = "test.forged"
        AuditEvent.objects.filter(pk=forged.pk).update(
            action="test.forged", hash=merkle.leaf_hash(entry_bytes(forged)).hex()
        )
        AuditCheckpoint.objects.all().delete()
        AuditLogNode.objects.all().delete()
        AuditLogLeaf.objects.all().delete()
    AuditLogQueue.objects.bulk_create(
        [AuditLogQueue(event=event) for event in AuditEvent.objects.order_by("id")]
    )
    tlog.sequence()
    message = verify(*kept)
    assert "of size 4 was signed over" not in message
    assert "of size 5 was signed over: an entry from 4 to 4 has been rewritten" in message


def test_a_checkpoint_held_outside_signed_with_another_key_is_refused(events, tmp_path):
    forger = Signer.generate("fuldmagt.localhost/audit-log")
    root = bytes(tlog.latest_checkpoint().root_hash)
    path = tmp_path / "forged.txt"
    path.write_text(forger.sign(Checkpoint("fuldmagt.localhost/audit-log", 5, root).text()))
    assert "The checkpoint held outside is refused" in verify(path)


def test_a_stored_checkpoint_signed_with_another_key_is_refused(events, settings):
    settings.AUDIT_LOG_SIGNING_KEY = str(Signer.generate("fuldmagt.localhost/audit-log"))
    assert "The stored checkpoint of size 5 is refused" in verify()


def test_an_event_neither_in_the_log_nor_queued_is_reported(events):
    event = record_event(action="api.decision", actor=None)
    AuditLogQueue.objects.filter(event=event).delete()
    assert f"Event {event.pk} " in verify()


def test_a_sequencer_that_fails_mid_batch_loses_nothing(karen, monkeypatch):
    written = [record_event(action="api.decision", actor=karen, details={"n": n}) for n in range(3)]

    def crash(size, root_hash):
        raise RuntimeError("the sequencer died")

    monkeypatch.setattr(tlog, "_sign", crash)
    with pytest.raises(RuntimeError):
        tlog.sequence()
    assert not AuditLogLeaf.objects.exists() and not AuditLogNode.objects.exists()
    assert AuditLogQueue.objects.count() == 3
    monkeypatch.undo()
    tlog.sequence()
    assert list(AuditLogLeaf.objects.order_by("index").values_list("event_id", flat=True)) == [
        event.pk for event in written
    ]


def test_authorities_with_an_api_client_receive_the_checkpoint_in_their_feed(skat, kommune, karen, settings):
    settings.AUDIT_LOG_PUBLISH_INTERVAL = 0
    create_api_client(authority=skat, name="Skat system")
    record_event(action="api.decision", actor=karen)
    checkpoint = tlog.sequence()
    sent = AuthorityEvent.objects.get(type="log.checkpoint")
    assert sent.authority == skat
    assert sent.payload["checkpoint"] == checkpoint.note
    assert sent.payload["root_hash"] == base64.b64encode(bytes(checkpoint.root_hash)).decode()


def test_checkpoints_go_to_authorities_at_most_once_per_interval(skat, karen, settings):
    settings.AUDIT_LOG_PUBLISH_INTERVAL = 3600
    create_api_client(authority=skat, name="Skat system")
    for n in range(3):
        record_event(action="api.decision", actor=karen, details={"n": n})
        tlog.sequence()
    assert AuthorityEvent.objects.filter(type="log.checkpoint").count() == 1


@postgres_only
def test_the_database_refuses_to_update_an_audit_event(events):
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(action="test.forged")


@postgres_only
def test_the_database_refuses_to_delete_an_audit_event(events):
    with (
        pytest.raises(Exception, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM portal_auditevent WHERE id = %s", [events[0].pk])


@postgres_only
def test_the_database_refuses_to_renumber_a_log_entry(events):
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        AuditLogLeaf.objects.filter(index=4).update(index=9)


def test_audit_log_key_prints_the_public_key_and_makes_new_signing_keys(capsys):
    call_command("audit_log_key")
    assert capsys.readouterr().out.strip() == str(tlog.verifier())
    call_command("audit_log_key", "--new", "--name=example.org/log")
    out = capsys.readouterr().out
    signing = out.split("AUDIT_LOG_SIGNING_KEY=")[1].split("\n")[0]
    assert str(Signer.parse(signing).verifier) in out


def test_the_embedded_demo_sequences_once_after_each_commit(
    karen, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_LOG_SEQUENCE_ON_COMMIT = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        first = record_event(action="api.decision", actor=karen)
        second = record_event(action="api.decision_batch", actor=karen)
    assert len(callbacks) == 1
    assert list(AuditLogLeaf.objects.order_by("index").values_list("event_id", flat=True)) == [
        first.pk,
        second.pk,
    ]
    assert tlog.latest_checkpoint().tree_size == 2
