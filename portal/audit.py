"""The audit trail: every state change and every act on someone's behalf is written here.

Each event is an entry of a transparency log (``portal.tlog``): the writer stores the event with
its RFC 6962 leaf hash and queues it, in its own transaction and without any lock; the sequencer
later gives it its index in the Merkle tree and signs a checkpoint that outside parties keep.
"""

import contextvars
import json
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .events import Action
from .logs import current_request_id  # defined there so that log lines carry it too
from .merkle import leaf_hash
from .models import AuditEvent, AuditLogQueue, User
from .prepared import prepared_cursor

#: While someone acts for another person: that person's id and the bases the acting rests on (power
#: of attorney, parental custody, guardianship), set by the act-for middleware. Events done for that
#: person carry the bases, so histories say on what grounds something was done in their name.
current_acting_basis: contextvars.ContextVar[tuple[int, tuple[str, ...], tuple[dict, ...]] | None] = (
    contextvars.ContextVar("current_acting_basis", default=None)
)


def _with_acting_basis(details: dict, actor: User | None, principal: User | None) -> dict:
    """What is done for the person acted for carries the bases it rests on, and the organisations
    (CVR number and name) through whose powers of attorney the actor acts, if any."""
    acting = current_acting_basis.get()
    if acting is None or actor is None or principal is None or actor.pk == principal.pk:
        return details
    principal_id, bases, organisations = acting
    if principal_id != principal.pk or "basis" in details:
        return details
    details = {**details, "basis": list(bases)}
    if organisations:
        details["organisations"] = list(organisations)
    return details


def entry_bytes(event: AuditEvent) -> bytes:
    """The bytes the log commits to for an event: who, for whom, where, what, when, which request.

    Users and authorities appear by their database ids, never by CPR number.
    """
    return _entry_bytes(
        uuid=event.uuid,
        created_at=event.created_at,
        actor=event.actor_id,
        principal=event.principal_id,
        authority=event.authority_id,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        details=event.details,
        request_id=event.request_id,
        previous_hash=event.previous_hash,
    )


def _entry_bytes(
    *,
    uuid,
    created_at,
    actor,
    principal,
    authority,
    action,
    target_type,
    target_id,
    details,
    request_id,
    previous_hash="",
) -> bytes:
    payload = {
        "uuid": str(uuid),
        "created_at": created_at.isoformat(),
        "actor": actor,
        "principal": principal,
        "authority": authority,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
        "request_id": request_id,
    }
    if previous_hash:  # written while the trail was a hash chain: the link is part of the entry
        payload["previous_hash"] = previous_hash
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
    """Append one event to the log, inside the caller's transaction; no writer waits for another.

    ``action`` must be in the event catalogue (``portal.events.Action``): an event nobody can name
    in plain words is refused here rather than shown to a person as a code.
    """
    action = Action(action).value
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor,
        principal=principal,
        authority=authority,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=_with_acting_basis(details or {}, actor, principal),
        request_id=current_request_id.get(),
    )
    event.hash = leaf_hash(entry_bytes(event)).hex()
    if connection.vendor == "postgresql":
        _insert_and_queue(event)
    else:
        with transaction.atomic():
            event.save(force_insert=True)
            AuditLogQueue.objects.create(event=event)
    if settings.AUDIT_LOG_SEQUENCE_ON_COMMIT:
        from .tlog import sequence_after_commit

        sequence_after_commit()
    return event


def record_events(events: list[dict]) -> int:
    """Append many events at once, inside the caller's transaction: one statement however many, for
    a job that ends thousands of mandates. Each is a dict of ``record_event``'s arguments, where the
    target may also be given as ``target_type`` and ``target_id``. Returns how many were written."""
    rows = []
    for arguments in events:
        target = arguments.get("target")
        actor, principal, authority = (arguments.get(name) for name in ("actor", "principal", "authority"))
        row = {
            "uuid": uuid.uuid4(),
            "created_at": timezone.now(),
            "actor": actor.pk if actor is not None else None,
            "principal": principal.pk if principal is not None else None,
            "authority": authority.pk if authority is not None else None,
            "action": Action(arguments["action"]).value,
            "target_type": arguments.get("target_type")
            or (target._meta.model_name if target is not None else ""),
            "target_id": arguments.get("target_id") or (str(target.pk) if target is not None else ""),
            "details": arguments.get("details") or {},
            "request_id": current_request_id.get(),
        }
        row["hash"] = leaf_hash(_entry_bytes(**row)).hex()
        rows.append(row)
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        # As columns of arrays, unnested in the database: building and saving a model instance per
        # event cost more than everything else the expiry job does for a mandate.
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_MANY_AND_QUEUE,
                [
                    [row["uuid"] for row in rows],
                    [row["created_at"] for row in rows],
                    [row["actor"] for row in rows],
                    [row["principal"] for row in rows],
                    [row["authority"] for row in rows],
                    [row["action"] for row in rows],
                    [row["target_type"] for row in rows],
                    [row["target_id"] for row in rows],
                    [json.dumps(row["details"]) for row in rows],
                    [row["request_id"] for row in rows],
                    [row["hash"] for row in rows],
                ],
            )
    else:
        with transaction.atomic():
            built = AuditEvent.objects.bulk_create(
                [
                    AuditEvent(
                        **{
                            f"{name}_id" if name in ("actor", "principal", "authority") else name: value
                            for name, value in row.items()
                        }
                    )
                    for row in rows
                ]
            )
            AuditLogQueue.objects.bulk_create([AuditLogQueue(event=event) for event in built])
    if settings.AUDIT_LOG_SEQUENCE_ON_COMMIT:
        from .tlog import sequence_after_commit

        sequence_after_commit()
    return len(rows)


_INSERT_MANY_AND_QUEUE = """
WITH event AS (
    INSERT INTO portal_auditevent (uuid, created_at, actor_id, principal_id, authority_id, action,
        target_type, target_id, details, request_id, previous_hash, hash)
    SELECT e.uuid, e.created_at, e.actor_id, e.principal_id, e.authority_id, e.action,
        e.target_type, e.target_id, e.details::jsonb, e.request_id, '', e.hash
    FROM unnest(%s::uuid[], %s::timestamptz[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[],
        %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
        WITH ORDINALITY AS e(uuid, created_at, actor_id, principal_id, authority_id, action,
            target_type, target_id, details, request_id, hash, n)
    ORDER BY e.n
    RETURNING id
)
INSERT INTO portal_auditlogqueue (event_id) SELECT id FROM event ORDER BY id
"""


_INSERT_AND_QUEUE = """
WITH event AS (
    INSERT INTO portal_auditevent (uuid, created_at, actor_id, principal_id, authority_id, action,
        target_type, target_id, details, request_id, previous_hash, hash)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, '', %s)
    RETURNING id
)
INSERT INTO portal_auditlogqueue (event_id) SELECT id FROM event RETURNING event_id
"""


def _insert_and_queue(event: AuditEvent) -> None:
    # One statement, so one round trip and atomic without a savepoint: an audited API call
    # should cost its writer as little as possible, and it never waits for another writer. Prepared
    # once per connection, so PostgreSQL does not parse and plan it for every decision.
    with prepared_cursor() as cursor:
        cursor.execute(
            _INSERT_AND_QUEUE,
            [
                event.uuid,
                event.created_at,
                event.actor_id,
                event.principal_id,
                event.authority_id,
                event.action,
                event.target_type,
                event.target_id,
                json.dumps(event.details),
                event.request_id,
                event.hash,
            ],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
