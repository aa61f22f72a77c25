#!/usr/bin/env bash
# Install the portal with its test tools and run the whole test suite. With DATABASE_URL and
# REDIS_URL set the suite runs against PostgreSQL and Redis; without them on SQLite and in-memory.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "database: ${DATABASE_URL:-sqlite (embedded)}; cache/broker: ${REDIS_URL:-in-memory (embedded)}"
[ -x /usr/bin/chromium ] || echo "browser tests will be skipped: no /usr/bin/chromium (apt-get install -y chromium)"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
exec .venv/bin/python -m pytest "$@"
