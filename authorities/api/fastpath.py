"""The decision endpoints' common case, read without DRF: well-formed questions from a known client.

``POST /api/v1/decisions`` is asked every time an attorney acts somewhere, so its usual request –
a valid token, a JSON object with exactly ``actor``, ``principal`` and ``right``, two CPR numbers in
their plain form and a right of the client's own authority – is checked here by hand and answered
directly; so is a batch (``POST /api/v1/decisions/batch``) of 1 to 100 such questions. Everything
else (no or bad token, throttled, ``at``, any doubt about the body) is handed to the DRF view
unchanged, which answers exactly as it always has: same validation, same problem+json errors in the
same words. So this module only ever *accepts* what the DRF view would accept, and gives the same
answer for it.
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
from .serializers import MAX_BATCH
from .throttling import ApiClientRateThrottle

QUESTION_FIELDS = frozenset(("actor", "principal", "right"))
BATCH_FIELDS = frozenset(("questions",))
# The plain forms CprField accepts unchanged (it also trims and drops spaces; those go to DRF).
PLAIN_CPR = re.compile(r"[0-9]{6}-?[0-9]{4}")
JSON_TYPES = ("application/json", "application/json; charset=utf-8", "application/json;charset=utf-8")


def read_question(request: HttpRequest):
    """(client, question) for a request the fast path may answer, else None (DRF answers it).

    Counts the request against the client's throttle and reads the catalogue's version stamp, in
    one Redis round trip; DRF, if it takes over, uses that count rather than counting again. Read
    once per request: asked again (by the view after ``DecisionMiddleware``), it answers the same.
    """
    return _once(request, _read_question)


def _once(request: HttpRequest, reader):
    """What ``reader`` makes of the request, read once: the throttle counts a request only once."""
    read = getattr(request, "_fastpath_read", _UNREAD)
    if read is _UNREAD:
        read = request._fastpath_read = reader(request)
    return read


_UNREAD = object()


def _read_question(request: HttpRequest):
    read = _read_body(request)
    if read is None:
        return None
    client, data = read
    question = _plain_question(data, client)
    return (client, question) if question is not None else None


def read_batch(request: HttpRequest):
    """(client, questions) for a batch the fast path may answer, else None (DRF answers it); counted
    against the throttle, and read once per request, as ``read_question`` reads a question."""
    return _once(request, _read_batch)


def _read_batch(request: HttpRequest):
    read = _read_body(request)
    if read is None:
        return None
    client, data = read
    if type(data) is not dict or data.keys() != BATCH_FIELDS:
        return None
    asked = data["questions"]
    if type(asked) is not list or not 1 <= len(asked) <= MAX_BATCH:
        return None
    questions = []
    for each in asked:
        question = _plain_question(each, client)
        if question is None:
            return None
        questions.append(question)
    return client, questions


def _read_body(request: HttpRequest):
    """(client, the body's JSON) for a request from a known client within its budget, else None."""
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
        return client, orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None


def _plain_question(data, client) -> dict | None:
    """The question as DRF's serializer would give it, if it is a plain one about the client's own
    right; else None."""
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
        return {"actor": normalize_cpr(actor), "principal": normalize_cpr(principal), "right": right}
    except DjangoValidationError:  # not a real date of birth: DRF says so
        return None


def render(answer: dict) -> bytes:
    """The answer as DRF's JSON renderer writes it (compact, UTC as Z)."""
    return orjson.dumps(answer, option=orjson.OPT_UTC_Z)
