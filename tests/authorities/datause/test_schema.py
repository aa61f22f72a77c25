"""The data-use endpoints against their OpenAPI schema, and the rule against random moments."""

import datetime
import json

import pytest
import schemathesis
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorities.clients.services import create_api_client
from authorities.models import DataUse
from portal.wsgi import application

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
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
def token(settings, kommune, kommune_consent, pension):
    settings.ALLOWED_HOSTS = ["*"]
    return create_api_client(authority=kommune, name="schemathesis")[1]


@schema.include(path_regex="^/api/v1/data-uses").parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_data_use_endpoints_conform_to_their_schema(case, token):
    # As for the whole API (tests/authorities/test_api_schema.py): a real CPR number or category
    # code cannot be expressed in the schema, and unknown query parameters are ignored.
    case.call_and_validate(
        app=application,
        base_url="http://localhost",
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
        ],
    )


# Moments around the consent's period, to the microsecond, and ids that repeat now and then.
OFFSETS = st.one_of(
    st.integers(-3, 3).map(lambda n: datetime.timedelta(microseconds=n)),
    st.integers(-40 * 24 * 3600, 40 * 24 * 3600).map(lambda n: datetime.timedelta(seconds=n)),
)


@pytest.mark.django_db
@given(
    anchor=st.sampled_from(["valid_from", "valid_until"]),
    offset=OFFSETS,
    external_id=st.text(alphabet="ab", min_size=1, max_size=3),
)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_use_is_accepted_exactly_inside_the_consents_period(
    client, kommune_consent, kommune_client, anchor, offset, external_id
):
    at = getattr(kommune_consent, anchor) + offset
    stored_before = DataUse.objects.filter(external_id=external_id).first()
    body = {
        "id": external_id,
        "citizen": "0102451234",
        "category": "skat.income",
        "purpose": "P",
        "at": at.isoformat(),
    }
    response = client.post(
        reverse("api:data_uses"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {kommune_client}",
    )
    if at > timezone.now() + datetime.timedelta(minutes=5):
        assert response.status_code == 400 and "errors" in response.json()
    elif stored_before is not None:
        assert response.status_code == (200 if stored_before.used_at == at else 409)
    elif kommune_consent.valid_from <= at < kommune_consent.valid_until:
        assert response.status_code == 201, response.content
        assert DataUse.objects.get(external_id=external_id).consent == kommune_consent
    else:
        assert response.status_code == 400
        assert response.json()["reason"] == (
            "consent_not_yet_valid" if at < kommune_consent.valid_from else "consent_expired"
        )
