"""Emails go out through a real Celery worker consuming from Redis, exactly once.

The unit tests run Celery eagerly (tests/conftest.py). Here a real worker is started in this
process (celery.contrib.testing.worker.start_worker, in a thread), so Django's locmem
``mail.outbox`` is shared with it. The worker reads committed rows through its own database
connections, hence ``transactional_db``.

Isolation: the worker's app is configured from the Django settings exactly like portal/celery.py,
but uses a Redis database other than REDIS_URL's (the test suite's cache.clear() flushes that one)
and a queue name unique to the test, so neither a concurrently running worker nor another test run
can take our messages. Eager mode is switched off for the portal app too, so a task that failed to
reach the worker could not silently run in-process instead.
"""

import datetime
import threading
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from celery import current_app as celery_current_app
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_prerun, task_retry
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.db import connection, transaction
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import PowerOfAttorney
from portal.celery import app as portal_app
from portal.models import Notice, OutboundEmail
from portal.tasks import send_outbound_email

from ..conftest import grant

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.REDIS_URL,
        reason="Needs a Redis broker for a real Celery worker: set REDIS_URL=redis://… (CI does).",
    ),
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 20
QUIET_SECONDS = 2.5
TASK = "portal.tasks.send_outbound_email"


def wait_for(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    """Poll until the condition holds; bounded, so a lost message fails the test instead of hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def isolated_broker_url() -> str:
    """REDIS_URL with another database number: 15, or 14 if REDIS_URL already uses 15."""
    parts = urlsplit(settings.REDIS_URL)
    current = parts.path.strip("/") or "0"
    return urlunsplit(parts._replace(path="/14" if current == "15" else "/15"))


# --- email backends the worker sends through -----------------------------------------------------


class FlakyEmailBackend(LocmemEmailBackend):
    """The mail server refuses the first connection, as during a short outage, then works."""

    calls = 0
    lock = threading.Lock()

    def send_messages(self, messages):
        with FlakyEmailBackend.lock:
            FlakyEmailBackend.calls += 1
            first = FlakyEmailBackend.calls == 1
        if first:
            raise ConnectionRefusedError(111, "Connection refused (simulated outage)")  # an OSError
        return super().send_messages(messages)


class SlowEmailBackend(LocmemEmailBackend):
    """Sending takes a while, so a duplicate delivery of the task arrives while the first still sends."""

    windows: list[tuple[float, float]] = []

    def send_messages(self, messages):
        started = time.monotonic()
        time.sleep(1.0)
        sent = super().send_messages(messages)
        SlowEmailBackend.windows.append((started, time.monotonic()))
        return sent


# --- the worker ----------------------------------------------------------------------------------


@pytest.fixture
def worker(settings, transactional_db):
    queue = f"fuldmagt-it-{uuid.uuid4().hex[:12]}"
    broker = isolated_broker_url()
    app = Celery("portal-integration", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker,
        result_backend=broker,
        result_expires=300,
        task_default_queue=queue,
        task_always_eager=False,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,  # no pidbox queue: nothing else to clean up in Redis
    )
    # The autouse fixture in tests/conftest.py makes Celery eager; undo that for this test only
    # (it sets it back before the next test).
    settings.CELERY_TASK_ALWAYS_EAGER = False
    was_eager = portal_app.conf.task_always_eager
    portal_app.conf.task_always_eager = False

    runs: list[SimpleNamespace] = []
    retries: list[str] = []

    def record_run(sender=None, task_id=None, task=None, **kwargs):
        runs.append(
            SimpleNamespace(
                task_id=task_id,
                name=task.name,
                delivered_from=(task.request.delivery_info or {}).get("routing_key"),
                eager=bool(task.request.is_eager),
                retries=task.request.retries,
                thread=threading.current_thread().name,
                started=time.monotonic(),
            )
        )

    def close_db_connection(**kwargs):
        # Each worker thread has its own connection; close it so the test database can be flushed
        # and dropped afterwards.
        connection.close()

    def record_retry(request=None, **kwargs):
        retries.append(request.id)

    task_prerun.connect(record_run, weak=False)
    task_postrun.connect(close_db_connection, weak=False)
    task_retry.connect(record_retry, weak=False)
    previous_app = celery_current_app._get_current_object()
    try:
        # Two threads, so two deliveries of one task can really run at the same time.
        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
        ) as running:
            # start_worker makes `app` the current app, which the shared task proxy
            # (portal.tasks.send_outbound_email, used by portal.notifications) resolves to.
            assert celery_current_app.main == "portal-integration"
            yield SimpleNamespace(app=app, worker=running, queue=queue, runs=runs, retries=retries)
    finally:
        task_prerun.disconnect(record_run)
        task_postrun.disconnect(close_db_connection)
        task_retry.disconnect(record_retry)
        previous_app.set_current()
        previous_app.set_default()
        portal_app.conf.task_always_eager = was_eager
        # The queue, and kombu's binding tables named after it (the default exchange has its name).
        client = redis.Redis.from_url(broker)
        leftovers = [queue, *client.scan_iter(match=f"_kombu.*.{queue}")]
        client.delete(*leftovers)
        client.close()


def runs_of(worker, task_name: str = TASK) -> list[SimpleNamespace]:
    return [run for run in worker.runs if run.name == task_name]


def assert_ran_in_the_worker(worker, runs) -> None:
    assert runs, "the worker ran nothing"
    for run in runs:
        assert not run.eager, "the task ran eagerly in the test process, not through the broker"
        assert run.delivered_from == worker.queue, "not delivered through the test's Redis queue"
        assert run.thread != threading.current_thread().name


def an_email(key: str, recipient: str = "someone@example.dk") -> OutboundEmail:
    return OutboundEmail.objects.create(
        idempotency_key=key, recipient=recipient, subject=f"Test {key}", body="Hej."
    )


# --- (a) end to end ------------------------------------------------------------------------------


def test_granting_sends_both_emails_through_the_worker(worker, karen, peter, read_mail):
    mandate = grant(karen, peter, [read_mail])  # its own committed transaction

    emails = OutboundEmail.objects.filter(idempotency_key__startswith=f"poa:{mandate.pk}:granted:")
    assert emails.count() == 2
    assert wait_for(lambda: emails.filter(sent_at__isnull=True).count() == 0 and len(mail.outbox) == 2), (
        f"not sent within {WAIT_SECONDS}s: outbox={len(mail.outbox)}, "
        f"unsent={list(emails.filter(sent_at__isnull=True).values_list('recipient', flat=True))}"
    )
    assert sorted(message.to[0] for message in mail.outbox) == ["karen@example.dk", "peter@example.dk"]
    assert {message.subject for message in mail.outbox} == set(emails.values_list("subject", flat=True))
    assert all(message.from_email == settings.DEFAULT_FROM_EMAIL for message in mail.outbox)
    assert list(emails.values_list("attempts", flat=True)) == [1, 1]
    assert Notice.objects.filter(recipient__in=[karen, peter]).count() == 2

    runs = runs_of(worker)
    assert len(runs) == 2
    assert_ran_in_the_worker(worker, runs)
    assert worker.retries == []


# --- (b) a transient failure is retried and sends once ---------------------------------------------


def test_a_transient_smtp_failure_is_retried_and_sends_exactly_once(worker, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"
    FlakyEmailBackend.calls = 0
    email = an_email("it:flaky")

    # The task's own backoff (retry_backoff=True: factor 1 s with full jitter) makes the first
    # retry come after 0-1 s, so no patching is needed to keep this fast.
    send_outbound_email.delay(email.pk)

    assert wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).sent_at is not None), (
        f"not sent within {WAIT_SECONDS}s; backend calls={FlakyEmailBackend.calls}, retries={worker.retries}"
    )
    time.sleep(QUIET_SECONDS)  # nothing more may arrive

    email.refresh_from_db()
    assert FlakyEmailBackend.calls == 2  # refused once, then delivered
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["someone@example.dk"]
    # Both tries are on the row: the refused one and the one that sent.
    assert email.attempts == 2
    assert email.last_error == ""
    assert email.sent_at is not None
    runs = runs_of(worker)
    assert [run.retries for run in runs] == [0, 1]
    assert len({run.task_id for run in runs}) == 1  # the same task, retried
    assert worker.retries == [runs[0].task_id]
    assert_ran_in_the_worker(worker, runs)


# --- (c) a duplicated task sends once --------------------------------------------------------------


@pytest.mark.skipif(
    bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="Two deliveries running at once need PostgreSQL's row lock; SQLite's shared in-memory "
    "test database locks whole tables ('database table is locked').",
)
def test_the_same_email_task_delivered_twice_sends_once(worker, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowEmailBackend"
    SlowEmailBackend.windows = []
    email = an_email("it:twice")

    first = send_outbound_email.delay(email.pk)
    second = send_outbound_email.delay(email.pk)
    # Exactly one of the two runs reports that it sent the email.
    assert sorted([first.get(timeout=WAIT_SECONDS), second.get(timeout=WAIT_SECONDS)]) == [False, True]

    # The very same task id delivered twice, as after a worker crash with acks_late.
    other = an_email("it:same-id")
    task_id = str(uuid.uuid4())
    send_outbound_email.apply_async(args=[other.pk], task_id=task_id)
    send_outbound_email.apply_async(args=[other.pk], task_id=task_id)
    assert wait_for(lambda: len([r for r in runs_of(worker) if r.task_id == task_id]) == 2)
    assert wait_for(lambda: OutboundEmail.objects.get(pk=other.pk).sent_at is not None)
    time.sleep(QUIET_SECONDS)

    assert sorted(message.to[0] for message in mail.outbox) == ["someone@example.dk"] * 2
    assert sorted(message.subject for message in mail.outbox) == ["Test it:same-id", "Test it:twice"]
    for row in OutboundEmail.objects.filter(pk__in=[email.pk, other.pk]):
        assert (row.attempts, row.sent_at is not None) == (1, True)
    runs = runs_of(worker)
    assert len(runs) == 4
    assert_ran_in_the_worker(worker, runs)
    # The duplicates really overlapped: each second delivery started while the first was still
    # sending (and then waited for the row lock), so the lock, not luck, kept it to one email.
    assert len(SlowEmailBackend.windows) == 2
    for (started, finished), (run_a, run_b) in zip(
        sorted(SlowEmailBackend.windows), [runs[0:2], runs[2:4]], strict=True
    ):
        assert min(run_a.started, run_b.started) <= started
        assert max(run_a.started, run_b.started) < finished, "the two deliveries did not overlap"
        assert run_a.thread != run_b.thread


# --- (d) rolled-back work never reaches anyone -----------------------------------------------------


class RollBack(Exception):
    pass


def test_work_that_rolls_back_is_never_sent(worker, karen, peter, ole, read_mail, tax_statement, monkeypatch):
    # A service whose own transaction fails after it queued the notices: nothing is sent.
    notify_parties = attorney_services._notify_parties

    def notify_then_fail(*args, **kwargs):
        notify_parties(*args, **kwargs)
        raise RollBack

    monkeypatch.setattr(attorney_services, "_notify_parties", notify_then_fail)
    with pytest.raises(RollBack):
        grant(karen, peter, [read_mail])
    monkeypatch.setattr(attorney_services, "_notify_parties", notify_parties)

    # A savepoint that rolls back inside a transaction that commits: its emails are dropped too.
    now = timezone.now()
    with transaction.atomic():
        karen.name = "Karen Marie Jensen"
        karen.save(update_fields=["name"])
        with pytest.raises(RollBack), transaction.atomic():
            attorney_services._grant(
                grantor=karen,
                created_by=karen,
                attorney_national_id=ole.national_id,
                attorney_name=ole.name,
                rights=[read_mail],
                valid_from=now,
                valid_until=now + datetime.timedelta(days=30),
            )
            raise RollBack

    time.sleep(QUIET_SECONDS)
    assert mail.outbox == []
    assert worker.runs == []
    assert not OutboundEmail.objects.exists()
    assert not Notice.objects.exists()
    assert not PowerOfAttorney.objects.exists()

    # The worker was listening all along: committed work in the same test does arrive.
    mandate = grant(karen, peter, [tax_statement])
    assert wait_for(lambda: len(mail.outbox) == 2)
    time.sleep(0.5)
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.count() == 2
    assert set(OutboundEmail.objects.values_list("idempotency_key", flat=True)) == {
        f"poa:{mandate.pk}:granted:{karen.pk}",
        f"poa:{mandate.pk}:granted:{peter.pk}",
    }
    assert_ran_in_the_worker(worker, runs_of(worker))
