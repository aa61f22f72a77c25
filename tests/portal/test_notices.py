"""Notices are kept as what happened and written in the reader's language when read."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from authorities.consent import services as consent_services
from authorities.consent.models import DataCategory
from portal.models import Notice, OutboundEmail

from ..conftest import grant


@pytest.fixture
def income(skat):
    return DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income", max_days=365
    )


def test_a_notice_keeps_its_template_and_plain_parameters(karen, peter, read_mail):
    grant(karen, peter, [read_mail])
    notice = Notice.objects.get(recipient=peter)
    assert notice.template == "attorney/email/event"
    assert notice.params["event"] == "granted"
    assert notice.params["g"] == "Karen Jensen"


def test_a_notice_is_read_in_the_language_of_the_page(karen, peter, read_mail):
    grant(karen, peter, [read_mail])
    notice = Notice.objects.get(recipient=peter)
    with translation.override("en"):
        assert notice.title == "Karen Jensen wants to give you a power of attorney"
    with translation.override("da"):
        assert notice.title != "Karen Jensen wants to give you a power of attorney"


def test_a_reader_who_prefers_english_sees_the_notice_and_gets_the_email_in_english(
    client, karen, peter, read_mail
):
    peter.preferred_language = "en"
    peter.save(update_fields=["preferred_language"])
    grant(karen, peter, [read_mail])
    assert OutboundEmail.objects.get(recipient=peter.email).subject == (
        "Karen Jensen wants to give you a power of attorney"
    )
    client.force_login(peter)
    assert (
        "Karen Jensen wants to give you a power of attorney"
        in client.get(reverse("authorities:start")).content.decode()
    )


def test_an_authority_is_named_in_the_readers_language(karen, skat, income):
    consent_services.request_consent(
        authority=skat,
        citizen_national_id=karen.national_id,
        category=income,
        purpose_da="Beregne betaling",
        purpose_en="Calculate payment",
        days=30,
    )
    notice = Notice.objects.get(recipient=karen)
    with translation.override("en"):
        assert notice.title == "Danish Tax Agency asks for your consent to use your data"
    with translation.override("da"):
        assert "Skattestyrelsen" in notice.title


def test_a_notice_from_before_templates_shows_its_stored_subject(client, karen):
    Notice.objects.create(recipient=karen, subject="En gammel besked", link="")
    client.force_login(karen)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "En gammel besked" in client.get(reverse("authorities:start")).content.decode()
