"""The decision endpoint's fast path (authorities.api.fastpath) answers exactly as the DRF view does,
hands everything else over to it, and keeps no copy of the catalogue or a client past a change."""

import json

import pytest
from django.db import connection
from django.urls import reverse

from attorney import services as attorney_services
from authorities.api import fastpath
from authorities.clients.services import create_api_client
from portal import processcache
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

KAREN, PETER, OLE = "0102451234", "1503752345", "2308603456"
# A content type the fast path leaves to DRF, which accepts it like plain application/json.
DRF_ONLY_TYPE = "application/json; charset=utf8"


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


@pytest.fixture
def post(client):
    def call(token, body, *, content_type="application/json"):
        return client.post(
            reverse("api:decisions"),
            body if isinstance(body, str) else json.dumps(body),
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return call


@pytest.fixture
def taken_by_fast_path(monkeypatch):
    """The questions the fast path answered itself (not handed over to DRF)."""
    answered = []
    real = fastpath._read_question

    def read_question(request):
        read = real(request)
        answered.append(read is not None)
        return read

    monkeypatch.setattr(fastpath, "_read_question", read_question)
    return answered


def comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Expires")}
    return response.status_code, response.content, sorted(headers.items())


@pytest.mark.parametrize(
    ("actor", "principal", "right"),
    [
        (PETER, KAREN, "skat.read_mail"),  # permit
        (PETER, KAREN, "skat.view_tax_assessment"),  # right not granted
        (OLE, KAREN, "skat.read_mail"),  # no power of attorney
        (KAREN, "010245-1234", "skat.read_mail"),  # oneself, with a hyphen
    ],
)
def test_the_fast_path_answers_byte_for_byte_as_the_drf_view(
    post, skat_token, active_mandate, ole, tax_statement, taken_by_fast_path, actor, principal, right
):
    active_mandate.rights.remove(tax_statement)
    question = {"actor": actor, "principal": principal, "right": right}
    by_drf = post(skat_token, question, content_type=DRF_ONLY_TYPE)
    by_fast_path = post(skat_token, question)
    assert taken_by_fast_path == [False, True]
    assert comparable(by_fast_path) == comparable(by_drf)


def test_the_fast_path_audits_each_decision_like_the_drf_view(post, skat_token, active_mandate):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    post(skat_token, question, content_type=DRF_ONLY_TYPE)
    post(skat_token, question)
    by_drf, by_fast_path = AuditEvent.objects.filter(action="api.decision").order_by("id")
    assert by_fast_path.details == by_drf.details
    assert by_fast_path.authority_id == by_drf.authority_id
    assert by_fast_path.details["decision"] == "permit"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one statement each on PostgreSQL; elsewhere plain querysets"
)
def test_a_permit_takes_one_query_and_the_audit_insert(
    post, skat_token, active_mandate, django_assert_max_num_queries
):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    post(skat_token, question)  # the client and the right are read once per process
    with django_assert_max_num_queries(2):
        assert post(skat_token, question).json()["decision"] == "permit"


@pytest.mark.parametrize(
    "body",
    [
        {"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "at": "2026-01-01T00:00:00Z"},
        {"actor": " " + PETER, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": PETER, "principal": KAREN, "right": "skat.no_such_right"},
        {"actor": "3213452345", "principal": KAREN, "right": "skat.read_mail"},
        {"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "as_of": "now"},
        {
            "actor": PETER,
            "principal": KAREN,
            "right": "skat.read_mail",
            "on_behalf_of_organisation": "12345674",
        },
        {"actor": int(PETER), "principal": KAREN, "right": "skat.read_mail"},
        '{"actor": "1503752345", "principal": "0102451234", "right": "skat.read_mail"',
        '["1503752345"]',
    ],
)
def test_anything_unusual_is_handed_to_the_drf_view(
    post, skat_token, active_mandate, taken_by_fast_path, body
):
    by_fast_path_view = post(skat_token, body)
    by_drf = post(skat_token, body, content_type=DRF_ONLY_TYPE)
    assert taken_by_fast_path == [False, False]
    assert comparable(by_fast_path_view) == comparable(by_drf)


def test_another_authoritys_right_is_refused_by_the_drf_view(
    post, kommune, skat_token, active_mandate, taken_by_fast_path
):
    kommune_token = create_api_client(authority=kommune, name="KK")[1]
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    post(skat_token, question)  # DRF reads the right; the process holds it from now on
    post(skat_token, question)
    response = post(kommune_token, question)
    assert taken_by_fast_path == [False, True, False]
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_a_request_handed_over_is_throttled_once(post, skat_token, active_mandate):
    from rest_framework.settings import api_settings

    from authorities.api.throttling import ApiClientRateThrottle

    ApiClientRateThrottle.THROTTLE_RATES = {"api_client": "2/min"}
    try:
        at = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "at": "2026-01-01T00:00:00Z"}
        codes = [post(skat_token, at).status_code for _ in range(3)]
    finally:
        ApiClientRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [200, 200, 429]


def test_a_change_to_the_catalogue_reaches_the_process_at_the_next_request(
    post, skat_token, active_mandate, read_mail
):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    assert post(skat_token, question).status_code == 200
    read_mail.code = "skat.read_letters"
    read_mail.save()
    response = post(skat_token, question)
    assert response.status_code == 400
    assert "right" in response.json()["errors"]


def test_a_revoked_mandate_is_refused_at_the_next_request(post, skat_token, active_mandate, karen):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    assert post(skat_token, question).json()["decision"] == "permit"
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    answer = post(skat_token, question).json()
    assert (answer["decision"], answer["reason"], answer["power_of_attorney"]) == (
        "deny",
        "revoked",
        str(active_mandate.pk),
    )


def test_copies_are_dropped_when_the_version_stamp_changes():
    processcache.refresh()
    processcache.table("rights")["skat.read_mail"] = object()
    processcache.bump()
    processcache.refresh()
    assert "skat.read_mail" not in processcache.table("rights")


def test_a_new_stamp_after_the_shared_cache_was_emptied_drops_the_copies():
    from django.core.cache import cache

    processcache.refresh()
    processcache.table("rights")["skat.read_mail"] = object()
    cache.clear()
    processcache.refresh()
    assert "skat.read_mail" not in processcache.table("rights")
