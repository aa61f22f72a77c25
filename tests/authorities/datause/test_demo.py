"""The demo shows the data-use log working, and its token can report another use as the README says."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from authorities.models import Consent, DataUse
from portal import demo

pytestmark = pytest.mark.django_db


def test_karens_consent_to_udbetaling_danmark_shows_three_uses():
    call_command("seed_demo")
    consent = Consent.objects.get(citizen__email="karen@example.dk", authority__slug="udbetaling-danmark")
    assert DataUse.objects.filter(consent=consent).count() == 3
    call_command("seed_demo")
    assert DataUse.objects.filter(consent=consent).count() == 3


def test_the_demo_token_reports_another_use_as_the_readme_shows(client):
    call_command("seed_demo")
    body = {
        "id": "ud-sag-4711",
        "citizen": "010245-1234",
        "category": "skat.income",
        "purpose": "Beregning af boligstøtte",
        "at": timezone.now().isoformat(),
    }
    response = client.post(
        reverse("api:data_uses"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {demo.DEMO_UD_API_TOKEN}",
    )
    assert response.status_code == 201, response.content
    assert DataUse.objects.filter(authority__slug="udbetaling-danmark").count() == 4
