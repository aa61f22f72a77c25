"""Health endpoints for a load balancer or process supervisor.

``/healthz`` says only that the web process answers: it touches neither the database nor Redis,
so an outage there does not make the balancer kill healthy processes. ``/readyz`` says whether this
process can serve: the database answers, every migration is applied, and Redis (when configured)
answers. Neither needs a login or reveals more than which check failed.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ready() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "migrations not applied"
    return "ok"


def _redis_ready() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    # Through the cache, with the same connection and timeouts as rate limits and throttles.
    cache.get("readyz-probe")
    return "ok"


CHECKS = {"database": _database_ready, "redis": _redis_ready}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # any failure means not ready; the reason goes to the log only
            logger.warning("readiness check %s failed: %s", name, error)
            results[name] = "unavailable"
    ready = all(result in ("ok", "not configured") for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
