#!/usr/bin/env bash
# The production smoke: install the portal as the README's "Production" section says (`pip install .`
# into a fresh virtualenv), then tests/production/smoke.py migrates, collects static files, runs
# `check --deploy`, starts the Procfile's web, worker and beat with DJANGO_ENV=production, and drives
# the portal over HTTP (MitID login, giving and accepting a power of attorney, email through a real
# SMTP server, an API decision, the proof page). Needs PostgreSQL and Redis; the driver runs in
# .venv (the test tools). SMOKE_DATABASE_URL and SMOKE_REDIS_URL say where (see the driver).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3.11 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet .
.venv/bin/python -m tests.production.smoke --venv "$work/venv"
