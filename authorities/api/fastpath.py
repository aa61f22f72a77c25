"""The decision endpoint's common case, read without DRF: a well-formed question from a known client.

``POST /api/v1/decisions`` is asked every time an attorney acts somewhere, so its usual request –
a valid token, a JSON object with exactly ``actor``, ``principal`` and ``right``, two CPR numbers in
their plain form and a right of the client's own authority – is checked here by hand and answered
directly. Everything else (no or bad token, throttled, ``at``, any doubt about the body) is handed to
the DRF view unchanged, which answers exactly as it always has: same validation, same problem+json
errors in the same words. So this module only ever *accepts* what the DRF view would accept, and
gives the same answer for it.
"""

import re

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest

from authorities.clients.tokens import hash_token
from portal import processcache
from portal.cpr import normalize_cpr

from .authentication import client_for_token
from .throttling import ApiClientRateThrottle

QUESTION_FIELDS = frozenset(("actor", "principal", "right"))
# The plain forms CprField accepts unchanged (it also trims and drops spaces; those go to DRF).
PLAIN_CPR = re.compile(r"[0-9]{6}-?[0-9]{4}")
JSON_TYPES = ("application/json", "application/json; charset=utf-8", "application/json;charset=utf-8")


def read_question(request: HttpRequest):
    """(client, question) for a request the fast path may answer, else None (DRF answers it).

    Counts the request against the client's throttle and reads the catalogue's version stamp, in
    one Redis round trip; DRF, if it takes over, uses that count rather than counting again. Read
    once per request: asked again (by the view after ``DecisionMiddleware``), it answers the same.
    """
    read = getattr(request, "_decision_question", _UNREAD)
    if read is _UNREAD:
        read = request._decision_question = _read_question(request)
    return read


_UNREAD = object()


def _read_question(request: HttpRequest):
    if request.method != "POST" or request.META.get("CONTENT_TYPE", "").lower() not in JSON_TYPES:
        return None
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token or not token.isascii() or " " in token:
        return None
    throttle = ApiClientRateThrottle()
    if throttle.rate is None:
        processcache.refresh()
    else:
        request.api_throttle_count = processcache.refresh_and_count(
            throttle.counter_key(hash_token(token)), throttle.duration
        )
        if request.api_throttle_count[0] > throttle.num_requests:
            request.processcache_fresh = True
            return None
    request.processcache_fresh = True
    client = client_for_token(token)
    length = request.META.get("CONTENT_LENGTH") or ""
    if client is None or not length.isdigit() or int(length) > settings.API_MAX_BODY_BYTES:
        return None
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or data.keys() != QUESTION_FIELDS:
        return None
    actor, principal, code = data["actor"], data["principal"], data["right"]
    if not (type(actor) is str and type(principal) is str and type(code) is str):
        return None
    if not (PLAIN_CPR.fullmatch(actor) and PLAIN_CPR.fullmatch(principal)):
        return None
    right = processcache.table("rights").get(code)  # filled by the DRF path's first lookup
    if right is None or right.service.authority_id != client.authority_id:
        return None
    try:
        question = {"actor": normalize_cpr(actor), "principal": normalize_cpr(principal), "right": right}
    except DjangoValidationError:  # not a real date of birth: DRF says so
        return None
    return client, question


def render(answer: dict) -> bytes:
    """The answer as DRF's JSON renderer writes it (compact, UTC as Z)."""
    return orjson.dumps(answer, option=orjson.OPT_UTC_Z)
