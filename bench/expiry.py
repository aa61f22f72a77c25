"""Benchmark: ending due powers of attorney at scale (attorney.services.expire_due).

Creates its own PostgreSQL database (fuldmagt_bench_expiry, dropped and re-created every run),
migrates it, and seeds with set-based SQL (INSERT ... SELECT generate_series, no ORM saves):

* N users, one skat citizen file per user, N ACTIVE powers of attorney (user i gives one to user
  i+1) with two rights each: 2N rows in the rights M2M table and 2N guardian permission rows
  (CitizenFileUserObjectPermission), as accept() would have written them;
* every (N/D)-th mandate is due (valid_until in the past, spread over the last D seconds), so D
  of them are due, scattered through the table as they would be in real life.

Then it measures, in this order:

1. the pure set-based part in SQL: one UPDATE of the due mandates' status and one DELETE of their
   permission rows (in a transaction that is rolled back, then VACUUM ANALYZE: a fresh copy);
2. the service's own set-based statements for all D due mandates: expire_due() with its
   per-mandate helpers (audit event, notifications, authority events) stubbed out (rolled back,
   then VACUUM ANALYZE);
3. the real attorney.services.expire_due(), unchanged, on the K oldest due mandates (K = D unless
   --service-due is smaller; expire_due(now=...) with a cut-off picks exactly the K oldest). It
   writes one audit event, two notices/outbound emails and (in newer code) an authority event per
   mandate and, after commit, queues two email tasks. No API client with a webhook is seeded, so no
   webhook deliveries are written or queued. Timers wrapped around the service's helpers and a connection.execute_wrapper
   give the breakdown; nothing in the application is changed.

The email tasks go to Redis when it answers on REDIS_URL (default redis://127.0.0.1:6379/0), as in
production, on a queue of their own that is deleted afterwards; no worker runs, so no email is
sent. Without Redis, Celery runs eagerly with the dummy email backend, which the report says.

    .venv/bin/python bench/expiry.py --small     # 10,000 mandates, 1,000 due (a minute or so)
    .venv/bin/python bench/expiry.py             # 1,000,000 mandates, 100,000 due

Results are printed and written to docs/benchmarks-expiry.md (one section per mode).
"""

import argparse
import collections
import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks-expiry.md"
DB_NAME = "fuldmagt_bench_expiry"

MODES = {
    # mode: (mandates, due, default number of due mandates the real service is timed on)
    "small": (10_000, 1_000, 1_000),
    "full": (1_000_000, 100_000, 100_000),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="10,000 mandates of which 1,000 are due")
    parser.add_argument(
        "--service-due",
        type=int,
        default=None,
        help="time the real expire_due() on this many of the due mandates (default: all of them) "
        "and extrapolate to all of them",
    )
    parser.add_argument(
        "--notices-sample",
        type=int,
        default=10_000,
        help="run the notices task on at most this many of the expired mandates (default: %(default)s)",
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--no-report", action="store_true", help="print only, do not write the report")
    return parser.parse_args()


ARGS = parse_args()
MODE = "small" if ARGS.small else "full"
TOTAL, DUE, DEFAULT_SERVICE_DUE = MODES[MODE]
SERVICE_DUE = min(ARGS.service_due or DEFAULT_SERVICE_DUE, DUE)
COMMAND = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/expiry.py", *sys.argv[1:]])
STARTED = datetime.datetime.now(datetime.UTC)
LOAD_BEFORE = os.getloadavg()
results: dict = {"mode": MODE, "mandates": TOTAL, "due": DUE, "service_due": SERVICE_DUE}
timings: dict[str, float] = {}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", flush=True)


@contextmanager
def timed(name: str):
    log(f"{name} …")
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    log(f"{name}: {timings[name]:.2f} s")


# --- a database of its own, before Django is set up ----------------------------------------------

with timed("create database"), psycopg.connect(f"{ARGS.postgres}/postgres", autocommit=True) as admin:
    admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{DB_NAME}"')
DB_URL = f"{ARGS.postgres}/{DB_NAME}"
os.environ["DATABASE_URL"] = DB_URL
os.environ["DATABASE_CONN_MAX_AGE"] = "0"
os.environ["EMAIL_URL"] = "dummymail://"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"

try:
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2).ping()
    BROKER = "redis"
except Exception as error:  # noqa: BLE001 - any failure means: no Redis here
    log(f"Redis not reachable ({error}); Celery runs eagerly with the dummy email backend")
    os.environ["REDIS_URL"] = ""
    BROKER = "eager"

sys.path.insert(0, str(ROOT))
import django  # noqa: E402

django.setup()

from celery._state import _set_task_join_will_block  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from attorney import services  # noqa: E402
from attorney.models import PowerOfAttorney, Status  # noqa: E402
from authorities.events import receivers as events_receivers  # noqa: E402
from authorities.models import Authority, CitizenFileUserObjectPermission, Right, Service  # noqa: E402
from portal import tasks as portal_tasks  # noqa: E402
from portal.audit import record_event  # noqa: E402
from portal.celery import app as celery_app  # noqa: E402
from portal.models import AuditEvent, Notice, OutboundEmail  # noqa: E402

# Fail in seconds rather than after seeding if the code cannot serve: the service builds links
# (reverse) and renders templates for every notification.
get_resolver().url_patterns  # noqa: B018 - imports the whole URLconf

QUEUE = f"bench-expiry-{os.getpid()}"
celery_app.conf.task_default_queue = QUEUE  # before the first message, so nothing else sees them
# In production expire_due() runs in a Celery worker (the beat task attorney.tasks.
# expire_due_powers_of_attorney), where Celery sets this flag; without it the Redis result backend
# would also SUBSCRIBE to a result channel for every queued task, which a worker does not do.
_set_task_join_will_block(True)

# The helpers expire_due() calls once per batch: (module, name, label).
BATCH_HELPERS = [
    (services, "record_events", "record_events (the batch's audit events)"),
    (events_receivers, "emit_mandate_events", "emit_mandate_events (the batch's authority events)"),
]
PER_MANDATE_HELPERS = [name for _, name, _ in BATCH_HELPERS]


@contextmanager
def helpers_replaced(make):
    """Each batch helper replaced by make(name, label, function), for the duration."""
    with contextlib.ExitStack() as stack:
        for module, name, label in BATCH_HELPERS:
            stack.enter_context(patched(module, **{name: make(name, label, getattr(module, name))}))
        yield


SOURCES = [
    "attorney/services.py",
    "authorities/events/services.py",
    "portal/notifications.py",
    "portal/audit.py",
]
CODE_VERSION = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in SOURCES)).hexdigest()[:12]

with timed("migrate"):
    call_command("migrate", verbosity=0)


# --- seeding, set-based ---------------------------------------------------------------------------


def sql(statement: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


BASE = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
STEP = TOTAL // DUE  # every STEP-th mandate is due

skat = Authority.objects.create(slug="skat", cvr="10000001", name_da="Skattestyrelsen", name_en="Tax")
digital_post = Service.objects.create(authority=skat, slug="digital-post", name_da="Post", name_en="Mail")
rights = [
    Right.objects.create(service=digital_post, code="skat.read_mail", name_da="Læse post", name_en="Read"),
    Right.objects.create(service=digital_post, code="skat.view_tax", name_da="Se skat", name_en="Tax"),
]
rights = list(Right.objects.filter(pk__in=[r.pk for r in rights]).select_related("permission"))
assert all(r.permission_id for r in rights)
params = {
    "n": TOTAL,
    "due": DUE,
    "step": STEP,
    "base": BASE,
    "authority": skat.pk,
    "r1": rights[0].pk,
    "r2": rights[1].pk,
    "p1": rights[0].permission_id,
    "p2": rights[1].permission_id,
}

with timed("seed"):
    with timed("seed users"):
        sql(
            """
            INSERT INTO portal_user (id, password, last_login, is_superuser, email, name, national_id,
                                     preferred_language, is_staff, is_active, date_joined,
                                     identity_verified_at, identity_verification, identity_document)
            SELECT g, '!', NULL, false, 'borger' || g || '@bench.example', 'Borger ' || g,
                   lpad(g::text, 10, '0'), CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'da' END, false, true,
                   %(base)s - interval '2 years', %(base)s - interval '2 years', 'mitid', ''
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
    with timed("seed citizen files"):
        sql(
            """
            INSERT INTO authorities_citizenfile (id, uuid, citizen_id, authority_id, created_at)
            SELECT g, gen_random_uuid(), g, %(authority)s, %(base)s - interval '400 days'
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
    with timed("seed powers of attorney"):
        # Mandate g: user g gives user g+1 (the last one gives user 1). Every step-th is due, the
        # k-th due one ended (due - k + 1) seconds before BASE; the others end within a year.
        sql(
            """
            INSERT INTO attorney_powerofattorney (
                id, grantor_id, attorney_id, invitee_national_id, invitee_name, valid_from,
                valid_until, status, basis, created_by_id, created_at, updated_at, activated_at,
                ended_at, ended_by_id, end_reason, replaces_id, reminder_sent_at, paper_document,
                registered_by_id)
            SELECT gen_random_uuid(), g, g %% %(n)s + 1, '', '', %(base)s - interval '400 days',
                   CASE WHEN g %% %(step)s = 0
                        THEN %(base)s - make_interval(secs => %(due)s - g / %(step)s + 1)
                        ELSE %(base)s + make_interval(days => 1 + g %% 365, secs => g %% 86400) END,
                   'active', 'digital', g, %(base)s - interval '400 days', %(base)s - interval '400 days',
                   %(base)s - interval '400 days' + interval '1 hour', NULL, NULL, '', NULL, NULL, '', NULL
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
    with timed("seed rights (M2M)"):
        sql(
            """
            INSERT INTO attorney_powerofattorney_rights (powerofattorney_id, right_id)
            SELECT m.id, r.id FROM attorney_powerofattorney AS m
            CROSS JOIN (VALUES (%(r1)s::bigint), (%(r2)s::bigint)) AS r (id)
            """,
            params,
        )
    with timed("seed permission rows"):
        # As accept() writes them: attorney, the right's permission, the grantor's file (its id is
        # the grantor's id here), the mandate and its period.
        sql(
            """
            INSERT INTO authorities_citizenfileuserobjectpermission (
                permission_id, user_id, content_object_id, power_of_attorney_id, valid_from, valid_until)
            SELECT p.id, m.attorney_id, m.grantor_id, m.id, m.valid_from, m.valid_until
            FROM attorney_powerofattorney AS m
            CROSS JOIN (VALUES (%(p1)s::integer), (%(p2)s::integer)) AS p (id)
            """,
            params,
        )
    for table in ("portal_user", "authorities_citizenfile"):
        sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with timed("vacuum analyze after seeding"):
        sql("VACUUM ANALYZE")


def count(statement: str, args: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.fetchone()[0]


due_now = PowerOfAttorney.objects.filter(status=Status.ACTIVE, valid_until__lte=BASE).count()
results["seeded"] = {
    "users": count("SELECT count(*) FROM portal_user"),
    "citizen_files": count("SELECT count(*) FROM authorities_citizenfile"),
    "mandates_active": PowerOfAttorney.objects.filter(status=Status.ACTIVE).count(),
    "mandates_due": due_now,
    "rights_m2m": count("SELECT count(*) FROM attorney_powerofattorney_rights"),
    "permission_rows": CitizenFileUserObjectPermission.all_rows.count(),
    "database_size": count("SELECT pg_size_pretty(pg_database_size(current_database()))"),
}
assert due_now == DUE, (due_now, DUE)
log(f"seeded: {results['seeded']}")


def vacuum() -> None:
    for table in ("attorney_powerofattorney", "authorities_citizenfileuserobjectpermission"):
        sql(f"VACUUM ANALYZE {table}")


class Rollback(Exception):
    pass


# --- 1. the pure set-based part, in SQL -------------------------------------------------------------

with psycopg.connect(DB_URL) as raw:
    start = time.perf_counter()
    updated = raw.execute(
        """
        UPDATE attorney_powerofattorney SET status = 'expired', ended_at = %(now)s, updated_at = %(now)s
        WHERE status IN ('pending', 'active') AND valid_until <= %(now)s
        """,
        {"now": BASE},
    ).rowcount
    update_seconds = time.perf_counter() - start
    start = time.perf_counter()
    deleted = raw.execute(
        """
        DELETE FROM authorities_citizenfileuserobjectpermission AS p
        USING attorney_powerofattorney AS m
        WHERE p.power_of_attorney_id = m.id AND m.status = 'expired' AND m.ended_at = %(now)s
        """,
        {"now": BASE},
    ).rowcount
    delete_seconds = time.perf_counter() - start
    raw.rollback()
assert (updated, deleted) == (DUE, 2 * DUE), (updated, deleted)
results["pure_sql"] = {
    "mandates": updated,
    "permission_rows": deleted,
    "update_s": update_seconds,
    "delete_s": delete_seconds,
    "total_s": update_seconds + delete_seconds,
}
log(f"pure SQL: {results['pure_sql']}")
vacuum()


# --- instrumentation: timers around the service's helpers and every SQL statement ----------------

SQL_KINDS = [
    (
        "select due mandates FOR UPDATE",
        re.compile(r'^SELECT .* FROM "attorney_powerofattorney".*FOR UPDATE', re.S),
    ),
    ("update status", re.compile(r'^UPDATE "attorney_powerofattorney"')),
    ("delete permission rows", re.compile(r'^DELETE FROM "authorities_citizenfileuserobjectpermission"')),
    # The events and their queue rows: one statement per batch on PostgreSQL (arrays unnested).
    ("audit: insert events and queue them for the log", re.compile(r"INSERT INTO portal_auditevent")),
    ("audit: insert events", re.compile(r'^INSERT INTO "portal_auditevent"')),
    ("audit: queue the events for the log", re.compile(r'^INSERT INTO "portal_auditlogqueue"')),
    ("rights of the due mandates", re.compile(r'^SELECT .* FROM "attorney_powerofattorney_rights"', re.S)),
    (
        "rights of the mandate (per email, per authority event)",
        re.compile(r'^SELECT .* FROM "authorities_right"', re.S),
    ),
    ("email: outbound email get_or_create", re.compile(r'"portal_outboundemail"')),
    ("email: insert notice", re.compile(r'^INSERT INTO "portal_notice"')),
    ("authority event: insert", re.compile(r'^\s*INSERT INTO "?authorities_authorityevent"?')),
    ("authority event: API clients with a webhook", re.compile(r'FROM "authorities_apiclient"')),
    ("authority event: webhook deliveries", re.compile(r'"authorities_webhookdelivery"')),
    ("savepoints", re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)")),
]


class SqlTimer:
    def __init__(self):
        self.seconds = collections.Counter()
        self.calls = collections.Counter()

    def __call__(self, execute, sql_text, sql_params, many, context):
        kind = next((name for name, pattern in SQL_KINDS if pattern.search(sql_text)), "other")
        start = time.perf_counter()
        try:
            return execute(sql_text, sql_params, many, context)
        finally:
            self.seconds[kind] += time.perf_counter() - start
            self.calls[kind] += 1


class Phase:
    """Accumulated wall time of one of the service's helpers."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.calls = collections.Counter()

    def wrap(self, name, function):
        def timed_function(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed_function


@contextmanager
def patched(module, **replacements):
    originals = {name: getattr(module, name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in originals.items():
            setattr(module, name, value)


class TimedTask:
    """Stands in for portal.tasks.send_outbound_email so the enqueue after commit can be timed."""

    def __init__(self, task, phase: Phase):
        self.task, self.phase = task, phase
        self.delay = phase.wrap("enqueue email task (after commit)", task.delay)


def breakdown(sql_timer: SqlTimer, phase: Phase) -> dict:
    return {
        "sql": {k: {"s": sql_timer.seconds[k], "calls": sql_timer.calls[k]} for k in sql_timer.seconds},
        "helpers": {k: {"s": phase.seconds[k], "calls": phase.calls[k]} for k in phase.seconds},
    }


# --- 2. the service's set-based statements for all due mandates (per-mandate helpers stubbed) ----

sql_timer, phase = SqlTimer(), Phase()
with (
    helpers_replaced(lambda name, label, function: lambda *a, **k: None),
    patched(
        services,
        remove_object_permissions=phase.wrap("remove_object_permissions", services.remove_object_permissions),
    ),
    connection.execute_wrapper(sql_timer),
):
    start = time.perf_counter()
    # Each batch is a durable transaction of its own; to roll them all back they run inside one
    # outer transaction marked the way Django's TestCase marks its own, which durable blocks allow.
    outer = transaction.atomic()
    outer._from_testcase = True
    try:
        with outer:
            expired = services.expire_due(now=BASE)
            stub_seconds = time.perf_counter() - start
            assert expired == DUE, expired
            raise Rollback
    except Rollback:
        pass
results["service_set_based"] = {"mandates": DUE, "total_s": stub_seconds, **breakdown(sql_timer, phase)}
log(f"service set-based statements only: {stub_seconds:.2f} s for {DUE} mandates")
vacuum()


# --- 3. the real service ------------------------------------------------------------------------------

# expire_due(now=cutoff) picks the mandates whose valid_until <= cutoff: exactly the K oldest due.
cutoff = BASE - datetime.timedelta(seconds=DUE - SERVICE_DUE + 1)
assert PowerOfAttorney.objects.filter(status=Status.ACTIVE, valid_until__lte=cutoff).count() == SERVICE_DUE
sql_timer, phase = SqlTimer(), Phase()
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def probe_other_writers(out: dict, stop: threading.Event) -> None:
    """Other requests writing while expiry runs: an audited write and a change to a mandate that is
    not due, one after the other in a loop, each in its own transaction. Does any of them wait?"""
    latencies = []
    bystander = PowerOfAttorney.objects.filter(status=Status.ACTIVE, valid_until__gt=BASE).values_list(
        "pk", flat=True
    )[0]
    try:
        while not stop.is_set():
            began = time.perf_counter()
            with transaction.atomic():
                record_event(action="api.decision", actor=None, details={"probe": True})
                PowerOfAttorney.objects.filter(pk=bystander).update(end_reason="")
            latencies.append(time.perf_counter() - began)
            time.sleep(0.02)
    finally:
        connection.close()
    latencies.sort()
    out["writes"] = len(latencies)
    out["p50_ms"] = 1000 * latencies[len(latencies) // 2] if latencies else None
    out["max_ms"] = 1000 * latencies[-1] if latencies else None


probe: dict = {}
stop_probe = threading.Event()
prober = threading.Thread(target=probe_other_writers, args=(probe, stop_probe), daemon=True)
prober.start()
with (
    helpers_replaced(lambda name, label, function: phase.wrap(label, function)),
    patched(
        services,
        remove_object_permissions=phase.wrap("remove_object_permissions", services.remove_object_permissions),
    ),
    patched(portal_tasks, send_outbound_email=TimedTask(portal_tasks.send_outbound_email, phase)),
    connection.execute_wrapper(sql_timer),
):
    log(f"real expire_due() on {SERVICE_DUE} due mandates …")
    start = time.perf_counter()
    expired = services.expire_due(now=cutoff)
    service_seconds = time.perf_counter() - start
log(f"real expire_due(): {service_seconds:.2f} s for {expired} mandates")
stop_probe.set()
prober.join(30)

# Since expiry runs in batches, the emails are rendered by a task after each batch commits
# (attorney.tasks.send_expiry_notices); run that work here, in-process, and time it on its own.
notices_seconds = None
expired_ids = [
    str(pk)
    for pk in PowerOfAttorney.objects.filter(status=Status.EXPIRED, ended_at=cutoff).values_list(
        "pk", flat=True
    )[: ARGS.notices_sample]
]
log(f"expiry notices task for {len(expired_ids)} mandates …")
start = time.perf_counter()
services.send_expiry_notices(mandate_ids=expired_ids)
notices_seconds = time.perf_counter() - start
log(f"expiry notices task: {notices_seconds:.2f} s")
# The task again for the same mandates (a retry, a second beat): nobody is told twice.
services.send_expiry_notices(mandate_ids=expired_ids)

remaining_rows = CitizenFileUserObjectPermission.all_rows.filter(
    power_of_attorney__status=Status.EXPIRED
).count()
checks = {
    "expired": expired,
    "expired_in_db": PowerOfAttorney.objects.filter(status=Status.EXPIRED).count(),
    "permission_rows_left_on_expired": remaining_rows,
    "audit_events": AuditEvent.objects.filter(action="power_of_attorney.expired").count(),
    "notices": Notice.objects.count(),
    "outbound_emails": OutboundEmail.objects.count(),
}
from authorities.models import AuthorityEvent  # noqa: E402

checks["authority_events"] = AuthorityEvent.objects.filter(type="power_of_attorney.expired").count()
checks["notices_sample"] = len(expired_ids)
if BROKER == "redis":
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    checks["tasks_queued_in_redis"] = client.llen(QUEUE)
    # The queue, and kombu's binding tables named after it (the default exchange has its name).
    client.delete(QUEUE, *client.scan_iter(match=f"_kombu.*.{QUEUE}"))
    client.close()
assert checks["expired"] == checks["expired_in_db"] == checks["audit_events"] == SERVICE_DUE, checks
assert checks["notices"] == checks["outbound_emails"] == 2 * len(expired_ids), checks
assert checks["authority_events"] == SERVICE_DUE, checks  # every seeded mandate has rights at one authority
assert checks["permission_rows_left_on_expired"] == 0, checks
results["service"] = {
    "mandates": expired,
    "total_s": service_seconds,
    "per_mandate_ms": 1000 * service_seconds / expired,
    "extrapolated_to_all_due_s": service_seconds / expired * DUE,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "max_rss_mb_before": rss_before / 1024,
    "notices_task_s": notices_seconds,
    "notices_sample": len(expired_ids),
    "other_writers": probe,
    "checks": checks,
    **breakdown(sql_timer, phase),
}
results["timings"] = dict(timings)
results["code_version"] = CODE_VERSION
results["per_mandate_helpers"] = PER_MANDATE_HELPERS
results["load_average_after"] = os.getloadavg()

if not ARGS.keep:
    connection.close()
    with psycopg.connect(f"{ARGS.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


# --- report -------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory_kb = int(meminfo.readline().split()[1])
    with psycopg.connect(f"{ARGS.postgres}/postgres") as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        pg_settings = {
            name: admin.execute(f"SHOW {name}").fetchone()[0]
            for name in ("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit")
        }
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": pg_settings,
        "load_average_before": LOAD_BEFORE,
    }


def s(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 120 else f"{seconds:,.0f} s ({seconds / 60:,.1f} min)"


def table(rows: dict, total: float, per: int) -> list[str]:
    lines = ["| part | calls | time | per mandate | share |", "|---|---:|---:|---:|---:|"]
    for name, value in sorted(rows.items(), key=lambda item: -item[1]["s"]):
        lines.append(
            f"| {name} | {value['calls']:,} | {s(value['s'])} | {1000 * value['s'] / per:.3f} ms "
            f"| {100 * value['s'] / total:.0f} % |"
        )
    return lines


def section(r: dict, m: dict) -> str:
    seeded, pure, stub, real = r["seeded"], r["pure_sql"], r["service_set_based"], r["service"]
    sql_total = sum(v["s"] for v in real["sql"].values())
    helpers = dict(real["helpers"])
    inside = sum(v["s"] for v in helpers.values())
    helpers["rest: load due mandates (SELECT … FOR UPDATE), UPDATE, loop, commit"] = {
        "s": real["total_s"] - inside,
        "calls": 1,
    }
    enqueue = helpers.get("enqueue email task (after commit)", {"s": 0.0, "calls": 0})
    extrapolated = r["service_due"] < r["due"]
    lines = [
        f"## {'Small' if r['mode'] == 'small' else 'Full'} run: {r['mandates']:,} active mandates, "
        f"{r['due']:,} due",
        "",
        f"* date: {r['date']}",
        f"* machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM; Python {m['python']}, "
        f"PostgreSQL {m['postgresql']} (shared_buffers {m['postgresql_settings']['shared_buffers']}, "
        f"work_mem {m['postgresql_settings']['work_mem']}, synchronous_commit "
        f"{m['postgresql_settings']['synchronous_commit']}), same host, no tuning",
        f"* load average before / after: {' '.join(f'{x:.2f}' for x in m['load_average_before'])} / "
        f"{' '.join(f'{x:.2f}' for x in r['load_average_after'])} (other work shared the 2 cores)",
        f"* command: `{r['command']}`",
        f"* code measured: sha256 of {', '.join(SOURCES)} = `{r['code_version']}`; helpers called once "
        f"per batch in expire_due(): {', '.join(f'`{h}`' for h in r['per_mandate_helpers'])}",
        f"* email tasks: {'queued to Redis (not sent; no worker)' if r['broker'] == 'redis' else 'eager, dummy backend'}",
        f"* data: {seeded['users']:,} users, {seeded['citizen_files']:,} citizen files, "
        f"{seeded['mandates_active']:,} active mandates ({seeded['mandates_due']:,} due), "
        f"{seeded['rights_m2m']:,} rights rows, {seeded['permission_rows']:,} permission rows; "
        f"database {seeded['database_size']}",
        f"* setup (not measured work): create {s(r['timings']['create database'])}, migrate "
        f"{s(r['timings']['migrate'])}, seed {s(r['timings']['seed'])} (users "
        f"{s(r['timings']['seed users'])}, mandates {s(r['timings']['seed powers of attorney'])}, "
        f"permission rows {s(r['timings']['seed permission rows'])}), vacuum analyze "
        f"{s(r['timings']['vacuum analyze after seeding'])}",
        "",
        "| what | mandates | time | per mandate |",
        "|---|---:|---:|---:|",
        f"| 1. pure SQL: `UPDATE` status of the due mandates | {pure['mandates']:,} | {s(pure['update_s'])} "
        f"| {1000 * pure['update_s'] / pure['mandates']:.3f} ms |",
        f"| 1. pure SQL: `DELETE` their {pure['permission_rows']:,} permission rows | {pure['mandates']:,} "
        f"| {s(pure['delete_s'])} | {1000 * pure['delete_s'] / pure['mandates']:.3f} ms |",
        f"| **1. pure set-based part, total** | {pure['mandates']:,} | **{s(pure['total_s'])}** "
        f"| {1000 * pure['total_s'] / pure['mandates']:.3f} ms |",
        f"| 2. `expire_due()` as written, its batch helpers stubbed out (rolled back) "
        f"| {stub['mandates']:,} | {s(stub['total_s'])} | {1000 * stub['total_s'] / stub['mandates']:.3f} ms |",
        f"| **3. real `expire_due()`** | {real['mandates']:,} | **{s(real['total_s'])}** "
        f"| {real['per_mandate_ms']:.2f} ms |",
    ]
    if real.get("notices_task_s") is not None:
        sample = real.get("notices_sample", real["mandates"])
        lines.append(
            f"| 4. the notices task after commit (`send_expiry_notices`: 2 emails + 2 notices each; "
            f"Celery workers, after the job) | {sample:,} | {s(real['notices_task_s'])} | "
            f"{1000 * real['notices_task_s'] / sample:.2f} ms |"
        )
    if extrapolated:
        lines.append(
            f"| 3. real `expire_due()`, **extrapolated** linearly from {real['mandates']:,} "
            f"(not measured) | {r['due']:,} | ≈ {s(real['extrapolated_to_all_due_s'])} | "
            f"{real['per_mandate_ms']:.2f} ms |"
        )
    lines += [
        "",
        f"Breakdown of the real `expire_due()` on {real['mandates']:,} mandates "
        f"({s(real['total_s'])}; time inside the service's helpers, including their SQL):",
        "",
        *table(helpers, real["total_s"], real["mandates"]),
        "",
        f"The same run by SQL statement (time in the driver, round trip included; {s(sql_total)} of "
        f"{s(real['total_s'])} is SQL, the rest is Python: the rows of the due mandates and their rights as "
        "plain values, building and hashing audit events, building authority events, queuing the email tasks):",
        "",
        *table(real["sql"], real["total_s"], real["mandates"]),
        "",
        f"Set-based statements of the service for all {stub['mandates']:,} due mandates (run 2):",
        "",
        *table(stub["sql"], stub["total_s"], stub["mandates"]),
        "",
        f"Checks after the real run: {json.dumps(real['checks'])}; peak RSS of the benchmark process "
        f"{real['max_rss_mb']:,.0f} MB (before the real run {real['max_rss_mb_before']:,.0f} MB).",
        "",
    ]
    writers = real.get("other_writers") or {}
    if writers.get("writes"):
        lines += [
            f"**Other writers:** while the real run went on, another connection wrote {writers['writes']:,} "
            "times (each an audited write and a change to a mandate that was not due, in its own "
            f"transaction): p50 {writers['p50_ms']:.1f} ms, slowest {writers['max_ms']:.1f} ms. The job "
            "holds no lock they need (the audit log has none; the job locks only the due rows of its "
            f"current batch of {getattr(services, 'EXPIRY_BATCH_SIZE', 'all')}), so their latency is "
            "that of the machine at the time; compare the load averages above.",
            "",
        ]
    if enqueue["calls"]:
        lines += [
            f"Queuing the {enqueue['calls']:,} email tasks after commit took {s(enqueue['s'])} "
            f"({1000 * enqueue['s'] / enqueue['calls']:.3f} ms each).",
            "",
        ]
    return "\n".join(lines)


HEADER = """# Benchmark: expiring due powers of attorney

Written by `bench/expiry.py` (each run replaces its own section). What is measured, on a database of
its own seeded with set-based SQL (see the script's docstring):

1. **pure SQL** – the set-based core of expiry: one `UPDATE` of the due mandates' status and one
   `DELETE` of their guardian permission rows (run in a transaction that is rolled back, followed by
   `VACUUM ANALYZE`, i.e. on an equivalent fresh copy);
2. **the service's set-based statements** – `attorney.services.expire_due()` itself with its
   batch helpers (`record_events`, `emit_mandate_events`) replaced by no-ops, for all due mandates
   (rolled back): per batch of 1,000 the `SELECT … FOR UPDATE SKIP LOCKED` that reads the due
   mandates (with the grantor's and attorney's CPR numbers) as plain values, the
   `UPDATE … WHERE id IN (…)`, the `DELETE … WHERE power_of_attorney_id IN (…)` and one `SELECT` of
   their rights;
3. **the real `expire_due()`**, unchanged: besides the above, per batch, the audit events of the
   whole batch (one statement on PostgreSQL: the events as arrays, unnested, and their queue rows for
   the transparency log) and the authority events (one statement, plus the webhook systems of the
   authorities concerned), each
   batch its own transaction; after each commit one task is queued that notifies grantor and
   attorney. No API client with a webhook is seeded, so no webhook deliveries are written or
   queued. Meanwhile another connection keeps writing (audited writes and changes to a mandate that
   is not due) and its latency is reported;
4. **the notices task** (`send_expiry_notices`, run by Celery workers after each batch) on a sample
   of the expired mandates, then once more on the same sample, which must tell nobody twice.

Timers around the helpers and a `connection.execute_wrapper` give the breakdown; no application
code is changed.
"""

NOTES = """## Notes

* Single runs on a shared 2-core machine, not averages; other jobs (test suites, browsers,
  profilers) ran at the same time (see the load averages). Read the numbers as orders of magnitude
  and proportions, not as precise figures.
* Ending a mandate is set-based per batch: six statements for 1,000 mandates, and Python work per
  mandate only to build (and hash) its audit event and its authority events, from plain values: no
  model instance is made for a due mandate, its people, its rights or its events. The emails and notices (rendering two
  templates per person) are the workers' job after each batch commits and do not hold up the
  expiry; they are written once per person and mandate (the notice's key), so a retried task or a
  second beat tells nobody twice.
* Earlier versions of this file measured a single transaction for all due mandates and an audit
  trail serialised by an advisory lock: ≈ 2 ms per mandate, 204 s extrapolated for 100,000, with
  every other audited write in the portal waiting until commit. Both are gone.
* A full run of 2026-12-01 01:41 UTC, on a machine six times slower, found a mistake: unordered,
  the batch query was answered by a table scan that grew longer with every batch (41 % of that run).
  Batches are read in the order of the `(status, valid_until)` index since.
* On a quiet machine (2026-12-01 06:31 UTC, the same command) the code before the plain-values
  change took 51.15 s for 100,000: 13.6 s in `record_events` and 12.1 s in `emit_mandate_events`,
  mostly building and saving a model instance per event, and 23.5 s loading the due mandates as
  models with their grantor, attorney, organisation and rights. Reading them as plain values and
  writing the events as unnested arrays, in batches of 1,000 instead of 500, brought the same run
  to the figure above.
* The beat schedule runs the expiry every 60 s; a run that takes longer overlaps the next one,
  which skips the rows the first has locked (`SKIP LOCKED`) instead of waiting for them.
* With the embedded default (no `REDIS_URL`) Celery is eager, and the same run would also send every
  email inside the call, which would make it slower still.
"""


def write_report(r: dict) -> None:
    existing = REPORT.read_text() if REPORT.exists() else ""
    sections = {}
    for mode in MODES:
        match = re.search(rf"<!-- bench:{mode} -->\n(.*?)<!-- /bench:{mode} -->", existing, re.S)
        if match:
            sections[mode] = match.group(1)
    sections[r["mode"]] = section(r, r["machine"])
    parts = [HEADER]
    for mode in ("small", "full"):
        if mode in sections:
            parts.append(f"<!-- bench:{mode} -->\n{sections[mode].rstrip()}\n<!-- /bench:{mode} -->\n")
    parts.append(NOTES)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(parts))
    log(f"wrote {REPORT.relative_to(ROOT)}")


results.update(
    date=STARTED.strftime("%Y-%m-%d %H:%M UTC"),
    command=COMMAND,
    broker=BROKER,
    machine=machine(),
)
print(json.dumps(results, indent=2, default=str))
print()
print(section(results, results["machine"]))
if not ARGS.no_report:
    write_report(results)
