"""/healthz and /readyz for a load balancer."""

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from portal import health


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any database access would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_migrations_and_redis_are(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok" if settings.REDIS_URL else "not configured"},
    }


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
    assert b"server closed" not in response.content


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_not_applied(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "migrations not applied"


@pytest.mark.django_db
def test_readyz_is_503_when_redis_does_not_answer(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    # Only the readiness check gets the unreachable cache; the test's own cache.clear() keeps working.
    unreachable = RedisCache(settings.REDIS_URL, {"OPTIONS": {"socket_connect_timeout": 2}})
    monkeypatch.setattr(health, "cache", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}


def test_health_endpoints_refuse_anything_but_get(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
