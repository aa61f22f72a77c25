"""The drills run the portal's real processes against PostgreSQL and Redis.

They need ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``; each drill makes its own database next to
``DATABASE_URL``'s and drops it afterwards. Without the services they are skipped, unless
``FULDMAGT_REQUIRE_DRILLS=1`` (CI sets it), which turns the skip into a failure.
"""

import os
import secrets
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from portal.signednote import Signer

from .support import PUBLIC_HOST, Portal, database_url, drop_database, recreate_database


def _services() -> tuple[str, str]:
    database, broker = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if database.startswith(("postgres://", "postgresql://")) and broker:
        return database, broker
    reason = "The drills need PostgreSQL (DATABASE_URL=postgres://…) and Redis (REDIS_URL=redis://…)."
    if os.environ.get("FULDMAGT_REQUIRE_DRILLS"):
        pytest.fail(reason + " FULDMAGT_REQUIRE_DRILLS is set, so they may not be skipped.")
    pytest.skip(reason)


@pytest.fixture
def drill_portal():
    """A migrated database of its own and a Portal whose processes run from this virtualenv."""
    database, broker = _services()
    name = f"{urlsplit(database).path.strip('/')}_drill_{uuid.uuid4().hex[:8]}"
    url = database_url(database, name)
    recreate_database(url)
    redis.Redis.from_url(broker).flushdb()
    with tempfile.TemporaryDirectory(prefix="fuldmagt-drill-") as work:
        portal = Portal(
            venv=Path(sys.prefix),
            env={
                "DATABASE_URL": url,
                "REDIS_URL": broker,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                # The drills' webhook receiver listens on this machine.
                "WEBHOOK_ALLOW_LOOPBACK": "true",
            },
            log_dir=Path(work),
        )
        try:
            portal.manage("migrate", "--noinput")
            yield portal
        finally:
            portal.stop_all()
            drop_database(url)
            redis.Redis.from_url(broker).flushdb()


@pytest.fixture
def production_portal(drill_portal):
    """The drill's portal with DJANGO_ENV=production, its static files collected and the demo data."""
    drill_portal.env.update(
        {
            "DJANGO_ENV": "production",
            "WEBHOOK_ALLOW_LOOPBACK": "false",  # refused in production; these drills send no webhooks
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            # The audit log signs its checkpoints with its own key in production (README, "The audit log").
            "AUDIT_LOG_ORIGIN": "fuldmagt.test/audit-log",
            "AUDIT_LOG_SIGNING_KEY": str(Signer.generate("fuldmagt.test/audit-log")),
            "DJANGO_ALLOWED_HOSTS": PUBLIC_HOST,
            "WEB_CONCURRENCY": "2",
        }
    )
    drill_portal.manage("collectstatic", "--noinput")
    drill_portal.manage("seed_demo")
    return drill_portal
