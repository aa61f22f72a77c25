"""Property-based run of the API against its own OpenAPI schema: no 5xx, no answer outside the schema."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from authorities.api.parsers import MAX_JSON_DEPTH
from authorities.clients.services import create_api_client
from portal.wsgi import application

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
# Every request, including the checks' own probes, goes to the portal in-process.
schema.app = application


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: the WSGI app must not close the test's database connection after each call."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(settings, skat, read_mail, tax_statement, active_mandate):
    settings.ALLOWED_HOSTS = ["*"]
    return create_api_client(authority=skat, name="schemathesis")[1]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    # Checks every answer: no 5xx, documented status codes, bodies matching the schema. A CPR
    # number with a real date or an existing right code cannot be expressed in the schema, so
    # "schema-valid input must be accepted" does not apply; and like most APIs this one ignores
    # query parameters it does not know, which the "invalid input must be rejected" check counts
    # as a failure.
    case.call_and_validate(
        app=application,
        base_url="http://localhost",
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
        ],
    )


# --- hostile input on purpose --------------------------------------------------------------------
# Random generation seldom produces a lone surrogate or deep nesting, so these classes of input are
# put into the generated bodies deliberately: each case replaces one field of a body generated from
# the schema with text holding a lone surrogate, or with a value nested past the parser's limit.

LONE_SURROGATE_TEXT = st.tuples(
    st.text(max_size=5), st.characters(categories=["Cs"]), st.text(max_size=5)
).map("".join)


def _nest(value, depth: int, as_object: bool):
    for _ in range(depth):
        value = {"a": value} if as_object else [value]
    return value


DEEP_VALUES = st.builds(
    _nest, st.one_of(st.text(max_size=3), st.integers()), st.integers(MAX_JSON_DEPTH, 500), st.booleans()
)
HOSTILE_VALUES = st.one_of(LONE_SURROGATE_TEXT, DEEP_VALUES)


# A schema of its own: only generated (not example) bodies, valid apart from the hostile value.
hostile_schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
hostile_schema.app = application
hostile_schema.config.phases.update(phases=["fuzzing"])
hostile_schema.config.generation.update(modes=[GenerationMode.POSITIVE])


def flatmap_body(context, body):
    if not isinstance(body, dict) or not body:
        return st.just(body)
    return st.tuples(st.sampled_from(sorted(body)), HOSTILE_VALUES).map(
        lambda swap: {**body, swap[0]: swap[1]}
    )


@hostile_schema.hooks.apply(flatmap_body)
@hostile_schema.include(method=["POST", "PUT"]).parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_bodies_are_400_problem_answers(case, token):
    response = case.call(
        app=application, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400, (case.body, response.text)
    assert response.headers["content-type"] == ["application/problem+json"]
    # Refused by the parser for what it is, before any field could be judged.
    assert "errors" not in response.json()
    assert "Unicode" in response.json()["detail"] or "nested" in response.json()["detail"]
    case.validate_response(
        response,
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
        ],
    )
