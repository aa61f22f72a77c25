"""The log under real concurrency on PostgreSQL: writers in threads, and a sequencer that dies."""

import contextlib
import threading
import time

import pytest
from django.db import DatabaseError, InterfaceError, connection, transaction

from portal import tlog
from portal.audit import record_event
from portal.models import AuditCheckpoint, AuditEvent, AuditLogLeaf, AuditLogQueue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrency is tested on PostgreSQL"),
]

WRITERS, EACH = 8, 25


def test_concurrent_writers_all_land_once_each_in_the_order_they_wrote():
    start = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    record_event(action="api.decision", actor=None, details={"writer": n, "seq": i})
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    def sequence() -> None:
        try:
            start.wait()
            while not writers_done.is_set():
                tlog.sequence(batch_size=16)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    sequencer = threading.Thread(target=sequence)
    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in [sequencer, *writers]:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    sequencer.join()
    tlog.sequence()

    assert errors == []
    leaves = list(AuditLogLeaf.objects.order_by("index").values_list("index", "event__details"))
    assert [index for index, _ in leaves] == list(range(WRITERS * EACH))
    assert sorted((d["writer"], d["seq"]) for _, d in leaves) == [
        (n, i) for n in range(WRITERS) for i in range(EACH)
    ]
    for n in range(WRITERS):
        assert [d["seq"] for _, d in leaves if d["writer"] == n] == list(range(EACH))
    sizes = list(AuditCheckpoint.objects.order_by("created_at", "id").values_list("tree_size", flat=True))
    assert sizes == sorted(sizes) and sizes[-1] == WRITERS * EACH
    assert tlog.verify_log().problems == []


def test_a_sequencer_killed_mid_batch_loses_nothing(monkeypatch):
    written = [record_event(action="api.decision", actor=None, details={"n": n}) for n in range(10)]
    reached = threading.Event()
    backend = []
    outcome: list[Exception] = []
    original_sign = tlog._sign

    def stall(size, root_hash):
        if threading.current_thread().name != "doomed":
            return original_sign(size, root_hash)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend.append(cursor.fetchone()[0])
        reached.set()
        for _ in range(400):  # until the process is killed under it
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            time.sleep(0.05)
        raise AssertionError("the sequencer was not killed")

    def doomed() -> None:
        try:
            tlog.sequence()
        except (DatabaseError, InterfaceError) as error:
            outcome.append(error)
        finally:
            with contextlib.suppress(DatabaseError, InterfaceError):
                connection.close()

    monkeypatch.setattr(tlog, "_sign", stall)
    thread = threading.Thread(target=doomed, name="doomed")
    thread.start()
    assert reached.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend[0]])
    thread.join()

    assert len(outcome) == 1  # it died in the middle of its batch ...
    assert not AuditLogLeaf.objects.exists() and not AuditCheckpoint.objects.exists()
    assert AuditLogQueue.objects.count() == 10  # ... and nothing it had taken is lost
    tlog.sequence()
    assert list(AuditLogLeaf.objects.order_by("index").values_list("event_id", flat=True)) == [
        event.pk for event in written
    ]
    assert AuditEvent.objects.count() == 10 and tlog.verify_log().problems == []
