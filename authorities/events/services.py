import base64
import datetime
import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.clients.models import ApiClient
from authorities.clients.services import forget_cached_client
from authorities.events.models import AuthorityEvent, DeliveryStatus, WebhookDelivery
from portal.audit import record_event
from portal.events import Action


def record_authority_event(*, authority_id: int, type: str, payload: dict) -> AuthorityEvent:
    """Put an event in the authority's outbox and schedule a webhook delivery to each of its systems,
    in the caller's transaction (deliveries start after commit)."""
    # Authorities hear of the same things, by the same names, as the audit trail records.
    event = AuthorityEvent.objects.create(authority_id=authority_id, type=Action(type).value, payload=payload)
    clients = ApiClient.objects.filter(authority_id=authority_id, revoked_at__isnull=True).exclude(
        webhook_url=""
    )
    for client in clients:
        delivery = WebhookDelivery.objects.create(event=event, client=client, url=client.webhook_url)
        transaction.on_commit(lambda pk=delivery.pk: _schedule_delivery(pk), robust=True)
    return event


def _schedule_delivery(delivery_id: int) -> None:
    from .tasks import deliver_webhook

    deliver_webhook.delay(delivery_id)


def _mandate_payloads(mandate, type: str) -> list[tuple[int, dict]]:
    """(authority id, payload) for each authority whose rights the mandate includes, with only
    that authority's rights."""
    return _payloads(
        mandate_id=mandate.pk,
        # callers on hot paths prefetch rights__service
        rights=[(right.code, right.service.authority_id) for right in mandate.rights.all()],
        principal=mandate.grantor.national_id,
        attorney=mandate.attorney.national_id if mandate.attorney_id else None,
        organisation=mandate.organisation.cvr if mandate.organisation_id else None,
        status=mandate.status,
        valid_from=mandate.valid_from,
        valid_until=mandate.valid_until,
        replaces=mandate.replaces_id,
    )


def _payloads(
    *, mandate_id, rights, principal, attorney, organisation, status, valid_from, valid_until, replaces
):
    by_authority: dict[int, list[str]] = {}
    for code, authority_id in rights:
        by_authority.setdefault(authority_id, []).append(code)
    return [
        (
            authority_id,
            {
                "power_of_attorney": str(mandate_id),
                "principal": principal,
                "attorney": attorney,
                # A power of attorney given to an organisation names it by CVR number instead.
                "organisation": organisation,
                "rights": sorted(codes),
                "status": status,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
                "replaces": str(replaces) if replaces else None,
            },
        )
        for authority_id, codes in sorted(by_authority.items())
    ]


def emit_mandate_events(*, mandates, type: str) -> int:
    """``emit_mandate_event`` for many mandates at once, in the caller's transaction: the events in
    one statement, then the webhook systems of the authorities concerned and their deliveries.

    ``mandates`` are the expiry job's plain values (``attorney.services.ExpiredMandate``), not
    model instances: a batch is a thousand of them. Returns how many events were written.
    """
    event_type = Action(f"power_of_attorney.{type}").value
    now = timezone.now()
    rows = [
        (uuid.uuid4(), authority_id, payload)
        for mandate in mandates
        for authority_id, payload in _payloads(
            mandate_id=mandate.pk,
            rights=mandate.rights,
            principal=mandate.grantor_national_id,
            attorney=mandate.attorney_national_id,
            organisation=mandate.organisation_cvr,
            status=mandate.status,
            valid_from=mandate.valid_from,
            valid_until=mandate.valid_until,
            replaces=mandate.replaces_id,
        )
    ]
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        # As columns of arrays, unnested in the database: a model instance per event cost more than
        # writing it.
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_EVENTS,
                [
                    event_type,
                    now,
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    [json.dumps(row[2]) for row in rows],
                ],
            )
            events = cursor.fetchall()
    else:
        events = [
            (event.pk, event.authority_id)
            for event in AuthorityEvent.objects.bulk_create(
                [
                    AuthorityEvent(
                        event_id=event_id,
                        authority_id=authority_id,
                        type=event_type,
                        payload=payload,
                        created_at=now,
                    )
                    for event_id, authority_id, payload in rows
                ]
            )
        ]
    webhooks: dict[int, list[ApiClient]] = {}
    for client in (
        ApiClient.objects.filter(
            authority_id__in={authority_id for _event, authority_id in events}, revoked_at__isnull=True
        )
        .exclude(webhook_url="")
        .order_by("name", "pk")
    ):
        webhooks.setdefault(client.authority_id, []).append(client)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event_id=event_id, client=client, url=client.webhook_url)
            for event_id, authority_id in events
            for client in webhooks.get(authority_id, [])
        ]
    )
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: _schedule_delivery(pk), robust=True)
    return len(events)


_INSERT_EVENTS = """
INSERT INTO authorities_authorityevent (event_id, authority_id, type, payload, created_at)
SELECT e.event_id, e.authority_id, %s, e.payload::jsonb, %s
FROM unnest(%s::uuid[], %s::bigint[], %s::text[]) WITH ORDINALITY AS e(event_id, authority_id, payload, n)
ORDER BY e.n
RETURNING id, authority_id
"""


def emit_mandate_event(*, mandate, type: str) -> list[AuthorityEvent]:
    """Tell each authority whose rights a power of attorney includes that it changed.

    Written in the caller's transaction, so an event exists exactly when the change does; each
    authority sees only its own rights.
    """
    return [
        record_authority_event(authority_id=authority_id, type=f"power_of_attorney.{type}", payload=payload)
        for authority_id, payload in _mandate_payloads(mandate, type)
    ]


def emit_log_checkpoint(*, checkpoint) -> list[AuthorityEvent]:
    """Send a signed checkpoint of the audit log to every authority with an API client.

    Each authority keeps its copies, so the operator cannot later present a log that rewrote what
    they were shown (``manage.py verify_audit --checkpoint`` checks against one).
    """
    payload = {
        "origin": settings.AUDIT_LOG_ORIGIN,
        "tree_size": checkpoint.tree_size,
        "root_hash": base64.b64encode(bytes(checkpoint.root_hash)).decode(),
        "checkpoint": checkpoint.note,
    }
    authority_ids = (
        ApiClient.objects.filter(revoked_at__isnull=True)
        .order_by()
        .values_list("authority_id", flat=True)
        .distinct()
    )
    return [
        record_authority_event(authority_id=authority_id, type="log.checkpoint", payload=payload)
        for authority_id in sorted(set(authority_ids))
    ]


def webhook_address_refused(address: str) -> bool:
    """Whether the portal must not connect to this IP address for a webhook.

    Only public unicast addresses are allowed: not loopback, link-local (the cloud metadata address
    169.254.169.254), private or unique-local, shared, multicast, reserved or unspecified
    (0.0.0.0), nor an IPv6 form of an IPv4 address that could hide one of those. Loopback only
    with WEBHOOK_ALLOW_LOOPBACK, for tests and development receivers.
    """
    import ipaddress

    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return True  # ::ffff:a.b.c.d
        if ip in ipaddress.ip_network("::/96") and int(ip) > 1:
            return True  # the IPv4-compatible form ::a.b.c.d (beside :: and ::1 themselves)
        if ip.sixtofour is not None and webhook_address_refused(str(ip.sixtofour)):
            return True
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: the IPv4 address is the last 32 bits
            return webhook_address_refused(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.is_site_local:
            return True
    if ip.is_loopback:
        return not settings.WEBHOOK_ALLOW_LOOPBACK
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def resolve_webhook_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to now (IP literals stand for themselves)."""
    import ipaddress
    import socket

    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def webhook_target(url: str):
    """The parts of a webhook address and the addresses it may be reached at, checked.

    Every address the name resolves to must be allowed, because a connection may go to any of
    them. Plain http only to loopback, where no one can listen in.
    """
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError({"url": [_("Give a full https address.")]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = resolve_webhook_host(host, port)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError({"url": [_("The address's host name cannot be found.")]}) from None
    if not addresses or any(webhook_address_refused(address) for address in addresses):
        raise ValidationError({"url": [_("The address points into a private network.")]})
    if parts.scheme == "http" and not all(_is_loopback(address) for address in addresses):
        raise ValidationError({"url": [_("The address must use https.")]})
    return parts, addresses


def _is_loopback(address: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address.split("%")[0]).is_loopback


def validate_webhook_url(url: str) -> str:
    """Webhooks go to https addresses on the public internet, in every mode (see webhook_target)."""
    parts, _addresses = webhook_target(url)
    return parts.geturl()


def _post_webhook(request) -> int:
    """Send a prepared request to a webhook and return the answer's status.

    The address is checked again now, because what a name resolves to can change after it was
    registered, and the connection goes to an address just checked rather than to whatever the
    name resolves to a moment later. Redirects are not followed: they could point anywhere.
    """
    import http.client
    import socket

    parts, addresses = webhook_target(request.full_url)

    def connect_to_checked_address(address, timeout, source_address=None):
        error = None
        for checked in addresses:
            try:
                return socket.create_connection((checked, address[1]), timeout, source_address)
            except OSError as failed:
                error = failed
        raise error

    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    connection._create_connection = connect_to_checked_address
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            request.get_method(), path, body=request.data, headers=dict(request.header_items())
        )
        return connection.getresponse().status
    finally:
        connection.close()


def register_webhook(*, client: ApiClient, url: str) -> tuple[ApiClient, str]:
    """Set a client's webhook address and give it a new signing secret, returned only now."""
    import base64
    import secrets

    url = validate_webhook_url(url)
    # A Standard Webhooks secret: "whsec_" and 32 random bytes in base64.
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with transaction.atomic(durable=True):
        ApiClient.objects.filter(pk=client.pk).update(webhook_url=url, webhook_secret=secret)
        forget_cached_client(client)
        record_event(
            action="api_client.webhook_registered", actor=None, authority=client.authority, target=client
        )
    client.refresh_from_db()
    return client, secret


def remove_webhook(*, client: ApiClient) -> None:
    """The client's events are no longer pushed; its feed stays readable."""
    with transaction.atomic(durable=True):
        ApiClient.objects.filter(pk=client.pk).update(webhook_url="", webhook_secret="")
        forget_cached_client(client)
        record_event(
            action="api_client.webhook_removed", actor=None, authority=client.authority, target=client
        )


def event_body(event: AuthorityEvent) -> dict:
    return {
        "id": str(event.event_id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after "whsec_"."""
    import base64
    import binascii

    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        # Secrets issued before the portal followed the spec were URL-safe base64 without padding.
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def sign_webhook(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature: "v1," and base64 HMAC-SHA256 over "<id>.<timestamp>.<body>"."""
    import base64
    import hashlib
    import hmac

    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookDeliveryError(Exception):
    pass


WEBHOOK_MAX_ATTEMPTS = 11  # the first and ten retries (authorities.events.tasks.deliver_webhook)


def attempt_webhook_delivery(*, delivery_id: int, final_attempt: bool) -> bool:
    """Send one event to one webhook. True when delivered (now or before); raises to be retried.

    The delivery row stays locked while sending, so a second run of the task (redelivered after a
    worker crash, or queued again by ``resend_pending_webhooks``) waits and then finds it delivered.
    A failed attempt is committed before the task is retried.
    """
    with transaction.atomic(durable=True):
        outcome = _deliver_locked(delivery_id=delivery_id, final_attempt=final_attempt)
    if isinstance(outcome, WebhookDeliveryError):
        raise outcome
    return outcome


def _deliver_locked(*, delivery_id: int, final_attempt: bool) -> "bool | WebhookDeliveryError":
    import http.client
    import time
    import urllib.request

    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("event", "client")
        .get(pk=delivery_id)
    )
    if delivery.status == DeliveryStatus.DELIVERED:
        return True
    client = delivery.client
    if client.revoked_at is not None or not client.webhook_secret:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error="client revoked"
        )
        return False
    body = json.dumps(event_body(delivery.event), separators=(",", ":")).encode()
    message_id = str(delivery.event.event_id)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked when the webhook was registered
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Fuldmagt-Webhooks/1",
            # Standard Webhooks: the id stays the same on every retry, so receivers drop duplicates by it.
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(
                secret=client.webhook_secret, message_id=message_id, timestamp=timestamp, body=body
            ),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        status = _post_webhook(request)
    except (OSError, http.client.HTTPException, ValidationError) as error:
        status, error_text = None, str(error)[:500]
    else:
        error_text = f"HTTP {status}"
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        return True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_error=error_text, status=DeliveryStatus.FAILED if final_attempt else DeliveryStatus.PENDING
    )
    if final_attempt:
        return False
    return WebhookDeliveryError(error_text)


def resend_pending_webhooks(*, now: datetime.datetime | None = None) -> int:
    """Queue again deliveries still pending after a while: their task was lost (the broker was down
    when the event was written, or a worker was killed while sending). Deliveries waiting for a
    retry are queued too; the row lock and the status check keep each event delivered once."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, created_at__lte=stale, attempts__lt=WEBHOOK_MAX_ATTEMPTS * 3
        ).values_list("pk", flat=True)[:1000]
    )
    for delivery_id in ids:
        _schedule_delivery(delivery_id)
    return len(ids)
