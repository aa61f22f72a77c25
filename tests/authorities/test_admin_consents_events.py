"""The admin's views of consents, API clients, events and webhook deliveries follow the same scope."""

import pytest
from django.urls import reverse

from attorney import services as attorney_services
from authorities.clients import services as clients_services
from authorities.consent import services as consent_services
from authorities.events import services as events_services
from authorities.models import ApiClient, AuthorityEvent, DataCategory, WebhookDelivery

from ..conftest import grant
from .test_admin import admin_as, make_caseworker, make_service_desk, shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def events_world(karen, peter, skat, kommune, read_mail, kommune_mail):
    income = DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="x", name_en="x", max_days=30
    )
    for authority in (skat, kommune):
        client, _ = clients_services.create_api_client(authority=authority, name=authority.slug)
        events_services.register_webhook(client=client, url="https://hooks.example/x")
        consent_services.request_consent(
            authority=authority,
            citizen_national_id=karen.national_id,
            category=income,
            purpose_da="a",
            purpose_en="b",
            days=5,
        )
    attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    return {"skat": skat, "kommune": kommune}


@pytest.mark.parametrize(
    ("url_name", "model_authority"),
    [
        ("admin:authorities_consentrequest_changelist", lambda o: o.authority_id),
        ("admin:authorities_authorityevent_changelist", lambda o: o.authority_id),
        ("admin:authorities_webhookdelivery_changelist", lambda o: o.client.authority_id),
    ],
)
def test_caseworker_sees_only_their_authoritys_consents_events_and_deliveries(
    client, events_world, url_name, model_authority
):
    skat = events_world["skat"]
    admin_as(client, make_caseworker(skat))
    response = client.get(reverse(url_name))
    objects = response.context["cl"].result_list
    assert objects
    assert {model_authority(o) for o in objects} == {skat.pk}


def test_caseworker_cannot_see_api_clients(client, events_world):
    admin_as(client, make_caseworker(events_world["skat"]))
    assert client.get(reverse("admin:authorities_apiclient_changelist")).status_code == 403


def test_service_desk_sees_all_deliveries_and_revokes_a_token(client, events_world):
    admin_as(client, make_service_desk())
    assert (
        len(shown(client.get(reverse("admin:authorities_webhookdelivery_changelist"))))
        == WebhookDelivery.objects.count()
        == 2
    )
    target = ApiClient.objects.get(authority=events_world["kommune"])
    client.post(
        reverse("admin:authorities_apiclient_changelist"),
        {"action": "revoke_tokens", "_selected_action": [str(target.pk)]},
    )
    target.refresh_from_db()
    assert target.revoked_at is not None
    assert ApiClient.objects.get(authority=events_world["skat"]).revoked_at is None


def test_events_cannot_be_edited_in_the_admin(client, events_world):
    admin_as(client, make_service_desk())
    event = AuthorityEvent.objects.first()
    response = client.post(
        reverse("admin:authorities_authorityevent_change", args=[event.pk]), {"type": "forged"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.type != "forged"
