import base64
import datetime
import http.server
import threading
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from attorney import services as attorney_services
from authorities.clients import services as clients_services
from authorities.consent import services as consent_services
from authorities.events import services as events_services
from authorities.models import ApiClient, AuthorityEvent, DeliveryStatus, WebhookDelivery

from ..conftest import grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _deliver_to_local_receivers(settings):
    """The receivers here listen on loopback, which webhooks may reach only when this is on."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True


class Receiver:
    """A small local HTTP server that checks each event's signature, like an authority's system would."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.calls = 0
        self.secret = ""
        self.received: dict[str, dict] = {}
        self.bad_signatures = 0
        self.webhook_ids: list[str] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls += 1
                receiver.webhook_ids.append(self.headers["webhook-id"])
                if receiver.calls <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    # The Standard Webhooks reference library, as an authority would use it.
                    event = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError:
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                assert self.headers["webhook-id"] == event["id"]
                receiver.received.setdefault(event["id"], event)  # de-duplicate by the webhook id
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def eager_retries(settings):
    """In-process tasks run their retries at once only when eager errors are not re-raised."""
    import authorities.tasks  # noqa: F401 - registering the task first keeps the setting below in place
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def skat_client(skat):
    return clients_services.create_api_client(authority=skat, name="skat")


@pytest.fixture
def kommune_client(kommune):
    return clients_services.create_api_client(authority=kommune, name="kk")


def hook(client_and_token, receiver_instance):
    client, _token = client_and_token
    client, secret = events_services.register_webhook(client=client, url=receiver_instance.url)
    receiver_instance.secret = secret
    return client


def test_revoking_sends_exactly_one_signed_event_to_the_right_authority(
    receiver, skat_client, kommune_client, active_mandate, karen, run_on_commit
):
    skat_receiver, kommune_receiver = receiver(), receiver()
    hook(skat_client, skat_receiver)
    hook(kommune_client, kommune_receiver)
    with run_on_commit():
        attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    events = list(skat_receiver.received.values())
    assert [e["type"] for e in events] == ["power_of_attorney.revoked"]
    assert events[0]["data"]["power_of_attorney"] == str(active_mandate.pk)
    assert sorted(events[0]["data"]["rights"]) == ["skat.read_mail", "skat.view_tax_assessment"]
    assert skat_receiver.bad_signatures == 0
    assert kommune_receiver.calls == 0


def test_events_carry_only_the_authoritys_own_rights(skat_client, karen, peter, read_mail, kommune_mail):
    attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    payloads = {
        e.authority.slug: e.payload["rights"] for e in AuthorityEvent.objects.select_related("authority")
    }
    assert payloads == {"skat": ["skat.read_mail"], "kobenhavns-kommune": ["kobenhavns-kommune.read_mail"]}


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_once(
    receiver, skat_client, active_mandate, karen, run_on_commit, eager_retries
):
    flaky = receiver(fail_first=2)
    hook(skat_client, flaky)
    with run_on_commit():
        attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    assert flaky.calls == 3
    assert len(flaky.received) == 1
    # Every attempt carries the same webhook-id, the event's id, so a receiver can drop duplicates.
    assert flaky.webhook_ids == [next(iter(flaky.received))] * 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)


def test_a_delivery_already_made_is_not_sent_again(
    receiver, skat_client, active_mandate, karen, run_on_commit
):
    from authorities.tasks import deliver_webhook

    target = receiver()
    hook(skat_client, target)
    with run_on_commit():
        attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    deliver_webhook(WebhookDelivery.objects.get().pk)
    assert target.calls == 1


def test_a_rolled_back_change_sends_nothing(receiver, skat_client, active_mandate, karen, run_on_commit):
    target = receiver()
    hook(skat_client, target)
    with run_on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
        raise RuntimeError("rolled back")
    assert target.calls == 0
    assert not AuthorityEvent.objects.filter(type="power_of_attorney.revoked").exists()


def test_a_receiver_that_never_answers_is_given_up_after_the_last_attempt(skat_client, active_mandate, karen):
    client, _ = skat_client
    events_services.register_webhook(client=client, url="http://127.0.0.1:9/closed")
    attorney_services.revoke(
        power_of_attorney=active_mandate, acting_user=karen
    )  # outside on-commit: not sent yet
    delivery = WebhookDelivery.objects.get()
    for _ in range(3):
        with pytest.raises(events_services.WebhookDeliveryError):
            events_services.attempt_webhook_delivery(delivery_id=delivery.pk, final_attempt=False)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    assert events_services.attempt_webhook_delivery(delivery_id=delivery.pk, final_attempt=True) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    assert "refused" in delivery.last_error.lower()


@pytest.mark.parametrize(("retries", "countdown"), [(0, 1), (3, 8), (9, 512)])
def test_the_delivery_task_backs_off_exponentially(retries, countdown):
    from unittest import mock

    from celery.exceptions import Retry

    from authorities.tasks import deliver_webhook

    failing = mock.patch.object(
        events_services, "attempt_webhook_delivery", side_effect=events_services.WebhookDeliveryError("down")
    )
    with failing, mock.patch.object(deliver_webhook, "retry", side_effect=Retry()) as retry:
        deliver_webhook.push_request(retries=retries)
        try:
            with pytest.raises(Retry):
                deliver_webhook.run(1)
        finally:
            deliver_webhook.pop_request()
    assert retry.call_args.kwargs["countdown"] == countdown


def test_the_feed_returns_everything_in_order_after_an_outage(client, skat_client, karen, peter, read_mail):
    _, token = skat_client
    mandate = attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    attorney_services.revoke(power_of_attorney=mandate, acting_user=karen)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    first = client.get(reverse("api:events"), **headers).json()
    assert [e["type"] for e in first["events"]] == [
        "power_of_attorney.activated",
        "power_of_attorney.revoked",
    ]
    again = client.get(reverse("api:events"), {"after": first["next"]}, **headers).json()
    assert again["events"] == []
    assert again["next"] == first["next"]
    partial = client.get(
        reverse("api:events"), {"after": str(AuthorityEvent.objects.order_by("id").first().pk)}, **headers
    )
    assert [e["type"] for e in partial.json()["events"]] == ["power_of_attorney.revoked"]


def test_the_feed_shows_no_other_authoritys_events(client, kommune_client, active_mandate):
    _, token = kommune_client
    assert client.get(reverse("api:events"), HTTP_AUTHORIZATION=f"Bearer {token}").json()["events"] == []


def test_a_bad_cursor_is_400(client, skat_client):
    _, token = skat_client
    response = client.get(reverse("api:events"), {"after": "abc"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def test_consent_changes_reach_the_authority_that_asked(kommune_client, kommune, karen, skat):
    from authorities.models import DataCategory

    category = DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="x", name_en="x", max_days=30
    )
    consent_request = consent_services.request_consent(
        authority=kommune,
        citizen_national_id=karen.national_id,
        category=category,
        purpose_da="a",
        purpose_en="b",
        days=10,
    )
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    consent_services.withdraw_consent(consent=consent, acting_user=karen, principal=karen)
    types = list(AuthorityEvent.objects.filter(authority=kommune).values_list("type", flat=True))
    assert types == ["consent.granted", "consent.withdrawn"]


# --- registering a webhook ---------------------------------------------------------------------


def register(client, token, url):
    import json as _json

    return client.put(
        reverse("api:webhook"),
        _json.dumps({"url": url}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_registering_returns_the_secret_once(client, skat_client):
    _, token = skat_client
    response = register(client, token, "https://hooks.skat.example/fuldmagt")
    assert response.status_code == 200
    secret = response.json()["secret"]
    # Standard Webhooks' format: "whsec_" and the key in base64.
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert ApiClient.objects.get().webhook_url == "https://hooks.skat.example/fuldmagt"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://example.com/hook", "https://"])
def test_bad_webhook_addresses_are_refused(client, skat_client, url):
    _, token = skat_client
    response = register(client, token, url)
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert ApiClient.objects.get().webhook_url == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest",
    ],
)
def test_private_network_targets_are_refused(client, skat_client, settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    _, token = skat_client
    response = register(client, token, url)
    assert response.status_code == 400
    assert ApiClient.objects.get().webhook_url == ""


def test_http_to_localhost_is_refused_without_the_loopback_setting(client, skat_client, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    _, token = skat_client
    assert register(client, token, "http://localhost:8000/hook").status_code == 400


def test_removing_the_webhook_stops_deliveries(client, skat_client, active_mandate, karen):
    _, token = skat_client
    register(client, token, "https://hooks.skat.example/x")
    assert client.delete(reverse("api:webhook"), HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    assert not WebhookDelivery.objects.exists()


# --- Standard Webhooks signatures ---------------------------------------------------------------


def test_the_signature_is_the_one_the_standard_webhooks_library_computes():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"id":"6f1c","type":"power_of_attorney.revoked"}'
    timestamp = int(time.time())
    ours = events_services.sign_webhook(secret=secret, message_id="6f1c", timestamp=timestamp, body=body)
    headers = {"webhook-id": "6f1c", "webhook-timestamp": str(timestamp), "webhook-signature": ours}
    assert Webhook(secret).verify(body, headers)["type"] == "power_of_attorney.revoked"


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-id": "another"},
        {"webhook-timestamp": str(int(time.time()) - 3600)},
        {"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()},
    ],
)
def test_a_changed_id_old_timestamp_or_wrong_signature_does_not_verify(change):
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"id":"6f1c"}'
    timestamp = int(time.time())
    headers = {
        "webhook-id": "6f1c",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": events_services.sign_webhook(
            secret=secret, message_id="6f1c", timestamp=timestamp, body=body
        ),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers | change)


def test_a_secret_issued_before_the_standard_format_still_signs_with_its_own_bytes():
    key = b"\xfb\xff" * 16  # URL-safe base64 of these bytes has "-" and "_"
    old_secret = "whsec_" + base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert events_services.webhook_signing_key(old_secret) == key


# --- lost delivery tasks -------------------------------------------------------------------------


def test_a_delivery_whose_task_was_lost_is_sent_once_by_the_resend_job(
    receiver, skat_client, active_mandate, karen, time_machine
):
    from authorities.tasks import resend_pending_webhooks

    target = receiver()
    hook(skat_client, target)
    attorney_services.revoke(
        power_of_attorney=active_mandate, acting_user=karen
    )  # no on-commit: the broker was down
    assert target.calls == 0
    assert resend_pending_webhooks() == 0  # too fresh: its own task may still be on the way
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=11))

    assert resend_pending_webhooks() == 1
    assert [e["type"] for e in target.received.values()] == ["power_of_attorney.revoked"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    assert resend_pending_webhooks() == 0
    assert target.calls == 1


def test_the_resend_job_leaves_failed_deliveries_alone(skat_client, active_mandate, karen, time_machine):
    from authorities.tasks import resend_pending_webhooks

    client, _ = skat_client
    events_services.register_webhook(client=client, url="https://hooks.skat.example/fuldmagt")
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED)
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=11))
    assert resend_pending_webhooks() == 0


def test_the_expiry_job_sends_each_authority_one_event_per_expired_mandate(
    receiver, skat_client, kommune_client, karen, read_mail, kommune_mail, time_machine, run_on_commit
):
    from ..factories import UserFactory

    skat_receiver = receiver()
    hook(skat_client, skat_receiver)
    mandates = [
        attorney_services.accept(
            power_of_attorney=grant(karen, attorney, [read_mail, kommune_mail], days=1), acting_user=attorney
        )
        for attorney in UserFactory.create_batch(3)
    ]
    AuthorityEvent.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    with run_on_commit():
        assert attorney_services.expire_due(batch_size=2) == 3
    expired = AuthorityEvent.objects.filter(type="power_of_attorney.expired").select_related("authority")
    assert sorted(
        (e.authority.slug, e.payload["power_of_attorney"], tuple(e.payload["rights"])) for e in expired
    ) == sorted(
        [
            (slug, str(m.pk), (f"{slug}.read_mail",))
            for m in mandates
            for slug in ("skat", "kobenhavns-kommune")
        ]
    )
    assert sorted(e["data"]["power_of_attorney"] for e in skat_receiver.received.values()) == sorted(
        str(m.pk) for m in mandates
    )
    assert skat_receiver.bad_signatures == 0
    assert WebhookDelivery.objects.count() == 3  # only skat's system has a webhook
