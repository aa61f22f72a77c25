"""Webhooks never reach internal addresses: checked on registration and again at each delivery."""

import http.server

import pytest
from django.utils import translation

from attorney import services as attorney_services
from authorities.clients.services import create_api_client
from authorities.events import services
from authorities.models import ApiClient, DeliveryStatus, WebhookDelivery

from .test_events import register

pytestmark = pytest.mark.django_db

INTERNAL = [
    "169.254.169.254",  # the cloud metadata address
    "169.254.0.1",
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[fe80::1]",  # IPv6 link-local
    "[fc00::1]",  # unique-local
    "[fd12:3456::1]",
    "[fec0::1]",  # site-local
    "[ff02::1]",  # multicast
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:169.254.169.254]",
    "[::ffff:8.8.8.8]",  # IPv4-mapped, even of a public address
    "[::a9fe:a9fe]",  # IPv4-compatible form of 169.254.169.254
    "[2002:a9fe:a9fe::1]",  # 6to4 around 169.254.169.254
    "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
]


@pytest.fixture
def skat_client(skat):
    return create_api_client(authority=skat, name="skat")


# --- on registration -----------------------------------------------------------------------------


def test_loopback_is_not_allowed_by_default():
    from django.conf import settings

    assert settings.WEBHOOK_ALLOW_LOOPBACK is False


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_in_every_mode(client, skat_client, address):
    _, token = skat_client
    response = register(client, token, f"https://{address}/hook")
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert ApiClient.objects.get().webhook_url == ""


@pytest.mark.parametrize("address", [a for a in INTERNAL if a not in ("127.0.0.1", "127.8.9.10", "[::1]")])
def test_the_loopback_setting_allows_nothing_but_loopback(client, skat_client, settings, address):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    _, token = skat_client
    assert register(client, token, f"https://{address}/hook").status_code == 400


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hook", "http://127.0.0.1:8000/hook", "http://[::1]:8000/x"]
)
def test_the_loopback_setting_allows_loopback(client, skat_client, settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    _, token = skat_client
    assert register(client, token, url).status_code == 200


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://metadata.example/latest", 400),  # resolves to 169.254.169.254
        ("https://half-internal.example/hook", 400),  # one internal address among public ones
        ("http://sagssystem.example/fuldmagt", 400),  # public, but plain http
        ("https://sagssystem.example/fuldmagt", 200),
    ],
)
def test_a_name_is_judged_by_every_address_it_resolves_to(client, skat_client, url, status):
    _, token = skat_client
    assert register(client, token, url).status_code == status


def test_a_name_that_does_not_resolve_is_refused_naming_the_field(client, skat_client):
    _, token = skat_client
    response = register(client, token, "https://no-such-host.invalid/hook")
    assert response.status_code == 400
    assert "cannot be found" in response.json()["errors"]["url"][0]


@pytest.mark.parametrize("url", ["https://sagssystem.example:99999/x", "https://sagssystem.example:port/x"])
def test_a_bad_port_is_400_not_500(client, skat_client, url):
    _, token = skat_client
    assert register(client, token, url).status_code == 400


# --- at delivery ---------------------------------------------------------------------------------


def answering(status: int, location: str | None = None):
    """A request handler that answers every POST with ``status`` (and Location, for redirects)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        calls = 0

        def do_POST(self):
            Handler.calls += 1
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def delivery(skat_client, active_mandate, karen):
    """A pending delivery to sagssystem.example, made outside on-commit so nothing is sent yet."""
    client, _ = skat_client
    services.register_webhook(client=client, url="https://sagssystem.example/hook")
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    return WebhookDelivery.objects.get()


@pytest.mark.parametrize(
    "now_resolves_to", [["169.254.169.254"], ["127.0.0.1"], ["93.184.215.14", "10.0.0.1"]]
)
def test_a_name_that_now_resolves_inside_is_not_connected_to(
    delivery, fake_dns, connections_made, now_resolves_to
):
    fake_dns["sagssystem.example"] = now_resolves_to
    with translation.override("en"):
        assert services.attempt_webhook_delivery(delivery_id=delivery.pk, final_attempt=True) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "private network" in delivery.last_error
    assert connections_made == []


def test_delivery_connects_to_the_address_it_checked(
    skat_client, active_mandate, karen, settings, local_server, fake_dns, connections_made
):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    handler = answering(204)
    client, _ = skat_client
    services.register_webhook(client=client, url=f"http://loopback.example:{local_server(handler)}/hook")
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    delivery = WebhookDelivery.objects.get()
    assert services.attempt_webhook_delivery(delivery_id=delivery.pk, final_attempt=True) is True
    assert handler.calls == 1
    assert connections_made == ["127.0.0.1"]


def test_a_redirect_is_not_followed(
    skat_client, active_mandate, karen, settings, local_server, connections_made
):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    port = local_server(answering(307, location="http://169.254.169.254/latest/meta-data/"))
    client, _ = skat_client
    services.register_webhook(client=client, url=f"http://127.0.0.1:{port}/hook")
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    delivery = WebhookDelivery.objects.get()
    assert services.attempt_webhook_delivery(delivery_id=delivery.pk, final_attempt=True) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "HTTP 307")
    assert connections_made == ["127.0.0.1"]
