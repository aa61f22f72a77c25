import base64

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
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


def emit_mandate_event(*, mandate, type: str) -> list[AuthorityEvent]:
    """Tell each authority whose rights a power of attorney includes that it changed.

    Written in the caller's transaction, so an event exists exactly when the change does; each
    authority sees only its own rights.
    """
    rights = list(mandate.rights.all())  # callers on hot paths prefetch rights__service
    by_authority: dict[int, list[str]] = {}
    for right in rights:
        by_authority.setdefault(right.service.authority_id, []).append(right.code)
    events = []
    for authority_id, codes in sorted(by_authority.items()):
        payload = {
            "power_of_attorney": str(mandate.pk),
            "principal": mandate.grantor.national_id,
            "attorney": mandate.attorney.national_id if mandate.attorney_id else None,
            "rights": sorted(codes),
            "status": mandate.status,
            "valid_from": mandate.valid_from.isoformat(),
            "valid_until": mandate.valid_until.isoformat(),
            "replaces": str(mandate.replaces_id) if mandate.replaces_id else None,
        }
        events.append(
            record_authority_event(
                authority_id=authority_id, type=f"power_of_attorney.{type}", payload=payload
            )
        )
    return events


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


def validate_webhook_url(url: str) -> str:
    """Webhooks go to https addresses on the public internet.

    Plain http is allowed only to this machine outside production (for development); in
    production an address that resolves to a private, loopback or otherwise internal network is
    refused, so the portal cannot be used to reach inside its own network.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError({"url": [_("Give a full https address.")]})
    local = host in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "http" and not (local and settings.WEBHOOK_ALLOW_PRIVATE_TARGETS):
        raise ValidationError({"url": [_("The address must use https.")]})
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _resolves_to_internal_address(host):
        raise ValidationError({"url": [_("The address points into a private network.")]})
    return parts.geturl()


def _resolves_to_internal_address(host: str) -> bool:
    import ipaddress
    import socket

    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return True
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return True
    return False


def register_webhook(*, client: ApiClient, url: str) -> tuple[ApiClient, str]:
    """Set a client's webhook address and give it a new signing secret, returned only now."""
    import secrets

    url = validate_webhook_url(url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(webhook_url=url, webhook_secret=secret)
        forget_cached_client(client)
        record_event(
            action="api_client.webhook_registered", actor=None, authority=client.authority, target=client
        )
    client.refresh_from_db()
    return client, secret


def remove_webhook(*, client: ApiClient) -> None:
    with transaction.atomic():
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


def sign_webhook(*, secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", so a receiver can check origin and freshness."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookDeliveryError(Exception):
    pass


def attempt_webhook_delivery(*, delivery_id: int, final_attempt: bool) -> bool:
    """Send one event to one webhook. True when delivered (now or before); raises to be retried."""
    import json
    import time
    import urllib.error
    import urllib.request

    delivery = WebhookDelivery.objects.select_related("event", "client").get(pk=delivery_id)
    if delivery.status == DeliveryStatus.DELIVERED:
        return True
    client = delivery.client
    if client.revoked_at is not None or not client.webhook_secret:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error="client revoked"
        )
        return False
    body = json.dumps(event_body(delivery.event), separators=(",", ":")).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked when the webhook was registered
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Fuldmagt-Webhooks/1",
            "X-Fuldmagt-Event-Id": str(delivery.event.event_id),
            "X-Fuldmagt-Signature": sign_webhook(
                secret=client.webhook_secret, timestamp=timestamp, body=body
            ),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
            validate_webhook_url(delivery.url)  # the address may resolve differently now
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except (urllib.error.URLError, OSError, ValidationError) as error:
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
    raise WebhookDeliveryError(error_text)
