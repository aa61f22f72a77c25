"""A revocation is seen by every web process at its very next request, whatever it holds in memory.

The API keeps API clients and the rights catalogue in each process (``portal.processcache``), so
this runs the portal under gunicorn with two workers, warms both, revokes, and asks again until
both workers have answered: every answer after the revocation must refuse.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from attorney import services as attorney_services
from authorities.clients.models import ApiClient
from authorities.clients.services import create_api_client, revoke_api_client

from ..conftest import grant

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or "redis" not in settings.CACHES["default"]["BACKEND"].lower(),
        reason="Needs PostgreSQL and Redis shared by the test and the server: set DATABASE_URL and REDIS_URL",
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
KAREN, PETER = "0102451234", "1503752345"


@pytest.fixture
def server(tmp_path):
    """The portal on the test database under gunicorn with two workers; each access is logged with
    the answering worker's pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access_log = tmp_path / "access.log"
    cache = settings.CACHES["default"]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": cache["LOCATION"],
        "CACHE_KEY_PREFIX": cache.get("KEY_PREFIX", ""),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEBUG": "false",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield port, access_log
    finally:
        process.terminate()
        process.wait(timeout=30)


def ask_many(port: int, token: str, count: int) -> list[tuple[int, dict]]:
    """``count`` decisions, four at a time on fresh connections, so both workers take some."""

    def ask(_):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"actor": PETER, "principal": KAREN, "right": "skat.read_mail"})
        conn.request(
            "POST",
            "/api/v1/decisions",
            body,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "127.0.0.1"},
        )
        response = conn.getresponse()
        answer = (response.status, json.loads(response.read() or b"{}"))
        conn.close()
        return answer

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(ask, range(count)))


def workers_since(access_log: Path, offset: int) -> set[str]:
    return {line.split()[0] for line in access_log.read_text()[offset:].splitlines() if line.strip()}


def ask_until_both_workers_answered(port, token, access_log) -> list[tuple[int, dict]]:
    offset = len(access_log.read_text()) if access_log.exists() else 0
    answers = []
    for _ in range(20):
        answers += ask_many(port, token, 8)
        if len(workers_since(access_log, offset)) == 2:
            return answers
    pytest.fail("one gunicorn worker answered every request")


def test_a_revoked_mandate_and_a_revoked_token_are_refused_by_every_worker(
    server, skat, read_mail, karen, peter
):
    port, access_log = server
    client, token = create_api_client(authority=skat, name="Skat system")
    mandate = attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    # Both workers now hold the client and the right in memory.
    warm = ask_until_both_workers_answered(port, token, access_log)
    assert {(status, answer["decision"]) for status, answer in warm} == {(200, "permit")}

    attorney_services.revoke(power_of_attorney=mandate, acting_user=karen)
    after_mandate = ask_until_both_workers_answered(port, token, access_log)
    assert {(status, answer["reason"]) for status, answer in after_mandate} == {(200, "revoked")}

    revoke_api_client(client=ApiClient.objects.get(pk=client.pk), acting_user=None)
    after_token = ask_until_both_workers_answered(port, token, access_log)
    assert {status for status, _ in after_token} == {401}
