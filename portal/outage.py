"""When PostgreSQL or Redis does not answer, people get a plain "try again shortly" page (503).

Django's handler500 runs for any uncaught exception, also one raised in middleware (a session read
from the database, a rate limit kept in Redis), so this is where a database or Redis error becomes a
503 with ``Retry-After`` instead of a 500. Nothing here may touch the database or Redis: the page is
rendered without the context processors or the user. The error itself is logged as usual by
``django.request``, with the request id.

What happens without Redis is a choice: login and API decisions are refused (503), not let through
without their rate limits and throttles, and answer again as soon as Redis does.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 30
# Not reaching the server. Other database errors (a constraint, a bad query) are bugs and stay 500s.
UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def _unavailable(error: BaseException | None) -> bool:
    # Also when the outage is the cause of another error (a library wrapping it).
    while error is not None:
        if isinstance(error, UNAVAILABLE):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 page during an outage, otherwise the plain 500 page."""
    outage = _unavailable(sys.exc_info()[1])
    status = 503 if outage else 500
    if request.path.startswith("/api/"):
        detail = (
            _("The service is temporarily unavailable. Try again shortly.")
            if outage
            else _("An error occurred on the server.")
        )
        response = JsonResponse({"detail": detail}, status=status)
    else:
        response = HttpResponse(render_to_string("503.html" if outage else "500.html"), status=status)
    if outage:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
