"""The audit trail: every state change and every act on someone's behalf is written here.

Each event is an entry of a transparency log (``portal.tlog``): the writer stores the event with
its RFC 6962 leaf hash and queues it, in its own transaction and without any lock; the sequencer
later gives it its index in the Merkle tree and signs a checkpoint that outside parties keep.
"""

import contextvars
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .merkle import leaf_hash
from .models import AuditEvent, AuditLogQueue, User

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")


def entry_bytes(event: AuditEvent) -> bytes:
    """The bytes the log commits to for an event: who, for whom, where, what, when, which request.

    Users and authorities appear by their database ids, never by CPR number.
    """
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
    }
    if event.previous_hash:  # written while the trail was a hash chain: the link is part of the entry
        payload["previous_hash"] = event.previous_hash
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def record_event(
    *,
    action: str,
    actor: User | None,
    principal: User | None = None,
    authority=None,
    target=None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the log, inside the caller's transaction; no writer waits for another."""
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
    )
    event.hash = leaf_hash(entry_bytes(event)).hex()
    with transaction.atomic():
        event.save(force_insert=True)
        AuditLogQueue.objects.create(event=event)
        if settings.AUDIT_LOG_SEQUENCE_ON_COMMIT:
            from .tlog import sequence_after_commit

            sequence_after_commit()
    return event
