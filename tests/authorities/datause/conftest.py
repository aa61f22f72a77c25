"""Fixtures and helpers of the data-use tests."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from authorities.clients.services import create_api_client
from authorities.models import (
    ApiClient,
    Consent,
    ConsentRequest,
    ConsentRequestStatus,
    ConsentStatus,
    DataCategory,
)

KAREN = "0102451234"


@pytest.fixture
def income(skat):
    return DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income", max_days=365
    )


@pytest.fixture
def pension(skat):
    """Data used without consent under a law the catalogue names."""
    return DataCategory.objects.create(
        authority=skat,
        code="skat.pension",
        name_da="Pension",
        name_en="Pension",
        legal_basis_da="Lov om social pension § 43",
        legal_basis_en="Social Pensions Act section 43",
    )


def a_consent(authority, citizen, category, *, start, end, status=ConsentStatus.GRANTED, ended_at=None):
    """A consent with exactly these times (the services stamp the present moment)."""
    request = ConsentRequest.objects.create(
        authority=authority,
        citizen_national_id=citizen.national_id,
        category=category,
        purpose_da="Beregne boligstøtte",
        purpose_en="Calculate housing benefit",
        days=max(1, (end - start).days),
        status=ConsentRequestStatus.GRANTED,
        answered_at=start,
        answered_by=citizen,
    )
    return Consent.objects.create(
        request=request,
        authority=authority,
        citizen=citizen,
        category=category,
        given_by=citizen,
        valid_from=start,
        valid_until=end,
        status=status,
        ended_at=ended_at,
    )


@pytest.fixture
def kommune_consent(kommune, karen, income):
    """Karen's consent to Københavns Kommune for her income data, given 30 days ago for 60 days."""
    now = timezone.now().replace(microsecond=500_000)
    return a_consent(
        kommune,
        karen,
        income,
        start=now - datetime.timedelta(days=30),
        end=now + datetime.timedelta(days=30),
    )


@pytest.fixture
def kommune_client(kommune):
    client, token = create_api_client(authority=kommune, name="KK sagssystem")
    return token


@pytest.fixture
def skat_client(skat):
    client, token = create_api_client(authority=skat, name="Skat sagssystem")
    return token


def client_of(token) -> ApiClient:
    from authorities.clients.tokens import hash_token

    return ApiClient.objects.get(token_hash=hash_token(token))


@pytest.fixture
def report(client):
    """POST one use (or, with batch=True, {"uses": [...]}) as an authority's system."""

    def _report(token, body, *, batch=False):
        return client.post(
            reverse("api:data_uses_batch" if batch else "api:data_uses"),
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return _report


def use(at, *, id="use-1", citizen="010245-1234", category="skat.income", **extra):
    moment = at if isinstance(at, str) else at.isoformat()
    return {
        "id": id,
        "citizen": citizen,
        "category": category,
        "purpose": "Boligstøtte",
        "at": moment,
        **extra,
    }


@pytest.fixture
def skat_consent(skat, karen, income):
    """Karen's consent to Skattestyrelsen for the same data."""
    now = timezone.now()
    return a_consent(
        skat, karen, income, start=now - datetime.timedelta(days=5), end=now + datetime.timedelta(days=5)
    )


def record_use(consent, *, external_id, at, purpose="Boligstøtte", client=None):
    """A use recorded through the service, as the API does."""
    from authorities.datause import services

    client = client or ApiClient.objects.filter(authority=consent.authority).first()
    if client is None:
        client, _ = create_api_client(authority=consent.authority, name="system")
    (outcome,) = services.report_data_uses(
        client=client,
        reports=[
            services.Report(
                external_id=external_id,
                citizen_national_id=consent.citizen.national_id,
                category=consent.category,
                purpose=purpose,
                used_at=at,
            )
        ],
    )
    assert outcome.status == services.Status.ACCEPTED, outcome
    return outcome.data_use


@pytest.fixture
def kommune_consent_right(kommune):
    from ...factories import RightFactory, ServiceFactory

    return RightFactory(
        service=ServiceFactory(authority=kommune, slug="samtykke"), code="kobenhavns-kommune.consent"
    )


@pytest.fixture
def acting(client, login, karen, peter):
    """Peter logged in and acting for Karen, with the rights the test gives him."""
    from attorney import services as attorney_services

    from ...conftest import grant

    def _acting(*rights):
        attorney_services.accept(power_of_attorney=grant(karen, peter, list(rights)), acting_user=peter)
        login(client, peter)
        client.post(reverse("attorney:act_for"), {"grantor": karen.pk})

    return _acting
