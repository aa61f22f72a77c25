import datetime
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from portal.signednote import Signer

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "REDIS_URL"}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="fuldmagt.example",
        # Read, not connected to, while settings load and checks run.
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    env["AUDIT_LOG_SIGNING_KEY"] = str(Signer.generate("fuldmagt.example/audit-log"))
    env.update(extra)
    return env


def load_settings(env: dict) -> subprocess.CompletedProcess:
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("redis_url", [None, ""])
def test_production_refuses_to_start_without_redis(redis_url):
    env = production_env()
    if redis_url is None:
        del env["REDIS_URL"]
    else:
        env["REDIS_URL"] = redis_url
    result = load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REDIS_URL must be set in production" in result.stderr


def test_production_starts_with_redis():
    result = load_settings(production_env())
    assert result.returncode == 0, result.stderr


def test_production_refuses_webhooks_to_loopback():
    result = load_settings(production_env(WEBHOOK_ALLOW_LOOPBACK="1"))
    assert result.returncode != 0
    assert "WEBHOOK_ALLOW_LOOPBACK cannot be on in production" in result.stderr


def test_development_starts_without_redis():
    env = {k: v for k, v in production_env().items() if k not in ("REDIS_URL", "DJANGO_ENV")}
    result = load_settings(env)
    assert result.returncode == 0, result.stderr


def test_check_deploy_with_production_settings_prints_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_strict_security_headers(client):
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_cookie_is_http_only_and_same_site(client, karen, login):
    login(client, karen)
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_session_ends_after_30_minutes_without_activity(client, karen, login, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    login(client, karen)
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=20), tick=False)
    assert client.get(reverse("attorney:overview")).status_code == 200
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=31), tick=False)
    assert client.get(reverse("attorney:overview")).status_code == 302


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr


@pytest.mark.parametrize("key", ["", "demo"])
def test_production_refuses_to_start_without_its_own_audit_log_key(key):
    from portal.settings import _DEV_AUDIT_LOG_SIGNING_KEY

    env = production_env(AUDIT_LOG_SIGNING_KEY=_DEV_AUDIT_LOG_SIGNING_KEY if key == "demo" else "")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "AUDIT_LOG_SIGNING_KEY" in result.stderr
