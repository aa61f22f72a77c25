"""The audit trail: every state change and every act on someone's behalf is written here.

Events are hash-chained: each stores the hash of the event before it, so a row edited or deleted
behind the application's back breaks the chain and ``verify_chain`` names the first broken event.
"""

import hashlib
import json
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from .events import Action
from .logs import current_request_id  # defined there so that log lines carry it too
from .models import AuditEvent, User

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_KEY = 0x46554C44  # any constant; serialises appends to the chain on PostgreSQL


def _event_hash(event: AuditEvent) -> str:
    payload = {
        "uuid": str(event.uuid),
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_id,
        "principal": event.principal_id,
        "authority": event.authority_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "request_id": event.request_id,
        "previous_hash": event.previous_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def record_event(
    *,
    action: str,
    actor: User | None,
    principal: User | None = None,
    authority=None,
    target=None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    ``action`` must be in the event catalogue (``portal.events.Action``): an event nobody can name
    in plain words is refused here rather than shown to a person as a code.
    """
    action = Action(action).value
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        last_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor,
            principal=principal,
            authority=authority,
            action=action,
            target_type=target._meta.model_name if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            details=details or {},
            request_id=current_request_id.get(),
            previous_hash=last_hash or GENESIS_HASH,
        )
        event.hash = _event_hash(event)
        event.save(force_insert=True)
        return event


def verify_chain(events: Iterable[AuditEvent] | None = None) -> AuditEvent | None:
    """Return the first event whose stored hashes do not match the chain, or None if it is intact."""
    expected_previous = GENESIS_HASH
    for event in events if events is not None else AuditEvent.objects.order_by("id").iterator():
        if event.previous_hash != expected_previous or event.hash != _event_hash(event):
            return event
        expected_previous = event.hash
    return None
