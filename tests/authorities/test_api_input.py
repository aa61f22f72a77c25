"""Hostile or mistaken API bodies get a 400 problem answer from every endpoint, never a 500."""

import json

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from authorities.api.parsers import MAX_JSON_DEPTH
from authorities.api.renderers import JSONRenderer
from authorities.clients.services import create_api_client
from authorities.models import ConsentRequest, DataCategory, Letter
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

KAREN, PETER = "010245-1234", "1503752345"
SURROGATE = "\ud800"


@pytest.fixture
def token(skat, read_mail, karen):
    DataCategory.objects.create(authority=skat, code="skat.income", name_da="Indkomst", name_en="Income")
    return create_api_client(authority=skat, name="Skat system")[1]


def question(**changes):
    return {"actor": PETER, "principal": KAREN, "right": "skat.read_mail", **changes}


# One valid body for each endpoint that takes one.
BODIES = {
    ("post", "decisions"): question(),
    ("post", "decisions_batch"): {"questions": [question()]},
    ("post", "letters"): {"recipient": KAREN, "subject": "Emne", "body": "Tekst"},
    ("post", "consent_requests"): {
        "citizen": KAREN,
        "category": "skat.income",
        "purpose_da": "Formål",
        "purpose_en": "Purpose",
        "days": 30,
    },
    ("put", "webhook"): {"url": "https://modtager.example/haendelser"},
}
ENDPOINTS = list(BODIES)


@pytest.fixture
def send(client, token):
    def _send(method, name, raw: str):
        return getattr(client, method)(
            reverse(f"api:{name}"), raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    return _send


def assert_problem(response, status=400):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def test_the_valid_bodies_are_accepted(send):
    # So that the refusals below are for the hostile part alone.
    for (method, name), body in BODIES.items():
        assert send(method, name, json.dumps(body)).status_code in (200, 201), name


# --- lone surrogates -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_a_lone_surrogate_in_every_field_is_400(send, method, name):
    for field in BODIES[method, name]:
        body = {**BODIES[method, name], field: f"a{SURROGATE}b"}
        problem = assert_problem(send(method, name, json.dumps(body)))
        assert "Unicode" in problem["detail"]
    assert not Letter.objects.exists() and not ConsentRequest.objects.exists()


@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_a_lone_surrogate_in_a_field_name_is_400(send, method, name):
    assert_problem(send(method, name, json.dumps({**BODIES[method, name], SURROGATE: "x"})))


def test_a_lone_surrogate_inside_a_batch_question_is_400(send):
    body = {"questions": [question(), question(right=f"skat.{SURROGATE}")]}
    assert_problem(send("post", "decisions_batch", json.dumps(body)))
    assert not AuditEvent.objects.filter(action="api.decision_batch").exists()


def test_the_renderer_escapes_text_that_utf8_cannot_carry():
    rendered = JSONRenderer().render({"subject": f"a{SURROGATE}"})
    assert json.loads(rendered) == {"subject": f"a{SURROGATE}"}


# --- deep nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_nesting_deep_enough_to_exhaust_the_decoder_is_400(send, settings, method, name):
    depth = 100_000
    raw = "[" * depth + "]" * depth
    assert len(raw) < settings.API_MAX_BODY_BYTES
    assert "nested" in assert_problem(send(method, name, raw))["detail"]


@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_objects_nested_past_the_limit_in_a_field_are_400(send, method, name):
    body = dict(BODIES[method, name])
    field = next(iter(body))
    nested = "x"
    for _ in range(MAX_JSON_DEPTH):
        nested = {"a": nested}
    body[field] = nested
    assert "nested" in assert_problem(send(method, name, json.dumps(body)))["detail"]


def test_nesting_at_the_limit_is_read_and_judged_by_the_fields(send):
    nested = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    problem = assert_problem(send("post", "decisions", json.dumps(question(right=nested))))
    assert "right" in problem["errors"]


# --- unknown fields --------------------------------------------------------------------------------


def test_as_of_instead_of_at_is_refused_naming_it_not_answered_about_now(send, active_mandate):
    response = send("post", "decisions", json.dumps(question(as_of="2025-01-01T00:00:00Z")))
    problem = assert_problem(response)
    assert list(problem["errors"]) == ["as_of"]
    assert "at" in problem["errors"]["as_of"][0]
    assert "as_of" in problem["detail"]
    assert "decision" not in problem
    assert not AuditEvent.objects.filter(action="api.decision").exists()


@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_every_body_refuses_unknown_fields_naming_each(send, method, name):
    body = {**BODIES[method, name], "extra": 1, "andet": "x"}
    problem = assert_problem(send(method, name, json.dumps(body)))
    assert set(problem["errors"]) == {"extra", "andet"}
    assert not Letter.objects.exists() and not ConsentRequest.objects.exists()


def test_unknown_fields_are_named_together_with_other_errors(send):
    problem = assert_problem(send("post", "decisions", json.dumps(question(actor="12345", as_of="x"))))
    assert set(problem["errors"]) == {"actor", "as_of"}


def test_an_unknown_field_in_one_batch_question_is_named_at_its_place(send):
    body = {"questions": [question(), question(as_of="2025-01-01T00:00:00Z")]}
    problem = assert_problem(send("post", "decisions_batch", json.dumps(body)))
    # DRF names the items in error by their index.
    assert list(problem["errors"]["questions"]) == ["1"]
    assert list(problem["errors"]["questions"]["1"]) == ["as_of"]


# --- other problems keep their status, as problem details ------------------------------------------


def test_a_missing_token_is_a_401_problem_with_its_challenge(client, read_mail):
    response = client.post(reverse("api:decisions"), json.dumps(question()), content_type="application/json")
    assert assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_body_that_is_not_json_is_a_415_problem(client, token):
    response = client.post(
        reverse("api:decisions"), "actor=1", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert_problem(response, 415)


# --- the schema says so ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_refuses_extra_fields_in_every_request_body(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            component = openapi["components"]["schemas"][reference.rsplit("/", 1)[1]]
            assert component["additionalProperties"] is False, (method, path)


def test_the_schema_documents_400_as_problem_details_naming_the_fields(openapi):
    answer = openapi["paths"]["/api/v1/decisions"]["post"]["responses"]["400"]["content"]
    reference = answer["application/problem+json"]["schema"]["$ref"]
    component = openapi["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"type", "title", "status", "detail", "errors"} <= set(component["properties"])
