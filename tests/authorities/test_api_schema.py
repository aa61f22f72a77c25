"""Property-based run of the API against its own OpenAPI schema: no 5xx, no answer outside the schema."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

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
