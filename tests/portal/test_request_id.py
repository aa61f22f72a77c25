"""X-Request-ID from a client is kept only when it looks like a request id; never a 500."""

import re

import pytest
from django.urls import reverse

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

OUR_OWN = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "given",
    ["0b8f7a4e-2c1d-4b8e-9d7a-6f5e4c3b2a10", "abc123", "Root-1.67:ab_c", "a" * 64],
)
def test_a_request_id_of_the_right_shape_is_kept(client, given):
    assert client.get(reverse("home"), HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given",
    [
        "",
        "a" * 65,
        "x" * 10_000,
        "æøå-request",
        "\u202etxt.exe",
        "abc\x00def",
        "abc\x1b[31m",
        "abc\x7f",
        "abc def",
        "-starts-with-a-dash",
        "abc\tdef",
        "a;b=c",
    ],
)
def test_any_other_request_id_is_replaced_by_our_own(client, given):
    response = client.get(reverse("home"), HTTP_X_REQUEST_ID=given)
    assert response.status_code == 200
    assert OUR_OWN.fullmatch(response["X-Request-ID"])


def test_without_a_request_id_we_make_one(client):
    assert OUR_OWN.fullmatch(client.get(reverse("home"))["X-Request-ID"])


def test_a_bad_request_id_never_reaches_the_audit_trail(client, login, karen, skat, kommune):
    from authorities.models import DataCategory

    from ..authorities.test_consent_scope import ask

    income = DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income"
    )
    consent_request = ask(kommune, income, citizen_national_id=karen.national_id)
    login(client, karen)
    response = client.post(
        reverse("authorities:consent_answer", args=[consent_request.pk]),
        {"answer": "grant"},
        HTTP_X_REQUEST_ID="evil\x00" + "x" * 200,
    )
    event = AuditEvent.objects.get(action="consent.granted")
    assert event.request_id == response["X-Request-ID"]
    assert OUR_OWN.fullmatch(event.request_id)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("da", "da"),
        ("da-DK,da;q=0.9", "da"),
        ("fr-FR", "en"),
        ("en-GB", "en"),
        ("x" * 500, "en"),
    ],
)
def test_api_answers_machines_in_english_unless_they_ask_for_danish(client, header, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": header} if header is not None else {}
    response = client.post(reverse("api:decisions"), "{}", content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.headers["Content-Language"] == expected
