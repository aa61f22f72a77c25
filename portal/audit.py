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
    row = _event_row(
        action=action,
        actor=actor,
        principal=principal,
        authority=authority,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=_with_acting_basis(details or {}, actor, principal),
    )
    event = AuditEvent(
        pk=_write(row),
        uuid=row["uuid"],
        created_at=row["created_at"],
        actor=actor,
        principal=principal,
        authority=authority,
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        details=row["details"],
        request_id=row["request_id"],
        hash=row["hash"],
    )
    event._state.adding = False
    event._state.db = connection.alias
    return event


def append_event(*, action: str, authority=None, details: dict | None = None) -> None:
    """``record_event`` for an authority's system asking the API, which names no person as actor or
    principal, without the event instance ``record_event`` returns: on the decision path, building
    one cost as much as the rest of writing it."""
    _write(
        _event_row(
            action=action,
            actor=None,
            principal=None,
            authority=authority,
            target_type="",
            target_id="",
            details=details or {},
        )
    )


def _event_row(
    *, action: str, actor, principal, authority, target_type: str, target_id: str, details: dict
) -> dict:
    """An event's values (people and authority by id), with its leaf hash."""
    row = {
        "uuid": uuid.uuid4(),
        "created_at": timezone.now(),
        "actor": actor.pk if actor is not None else None,
        "principal": principal.pk if principal is not None else None,
        "authority": authority.pk if authority is not None else None,
        "action": Action(action).value,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
        "request_id": current_request_id.get(),
    }
    row["hash"] = leaf_hash(_entry_bytes(**row)).hex()
    return row


def _write(row: dict) -> int:
    """Store one event and queue it for the sequencer; its id."""
    if connection.vendor == "postgresql":
        # One statement, so one round trip and atomic without a savepoint: an audited API call
        # should cost its writer as little as possible, and it never waits for another writer.
        # Prepared once per connection, so PostgreSQL does not parse and plan it for every decision.
        with prepared_cursor() as cursor:
            cursor.execute(_INSERT_AND_QUEUE, _parameters(row))
            pk = cursor.fetchone()[0]
    else:
        with transaction.atomic():
            pk = AuditEvent.objects.create(**_model_fields(row)).pk
            AuditLogQueue.objects.create(event_id=pk)
    if settings.AUDIT_LOG_SEQUENCE_ON_COMMIT:
        from .tlog import sequence_after_commit

        sequence_after_commit()
    return pk


def _parameters(row: dict) -> list:
    """The row's values in the order of the insert statements' columns, details as JSON text."""
    return [json.dumps(row[name]) if name == "details" else row[name] for name in _COLUMNS]


_COLUMNS = (
    "uuid",
    "created_at",
    "actor",
    "principal",
    "authority",
    "action",
    "target_type",
    "target_id",
    "details",
    "request_id",
    "hash",
)


def _model_fields(row: dict) -> dict:
    return {
        f"{name}_id" if name in ("actor", "principal", "authority") else name: value
        for name, value in row.items()
    }


def record_events(events: list[dict]) -> int:
    """Append many events at once, inside the caller's transaction: one statement however many, for
    a job that ends thousands of mandates. Each is a dict of ``record_event``'s arguments, where the
    target may also be given as ``target_type`` and ``target_id``. Returns how many were written."""
    rows = []
    for arguments in events:
        target = arguments.get("target")
        rows.append(
            _event_row(
                action=arguments["action"],
                actor=arguments.get("actor"),
                principal=arguments.get("principal"),
                authority=arguments.get("authority"),
                target_type=arguments.get("target_type")
                or (target._meta.model_name if target is not None else ""),
                target_id=arguments.get("target_id") or (str(target.pk) if target is not None else ""),
                details=arguments.get("details") or {},
            )
        )
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        # As columns of arrays, unnested in the database: building and saving a model instance per
        # event cost more than everything else the expiry job does for a mandate.
        with connection.cursor() as cursor:
            # One array per column.
            cursor.execute(
                _INSERT_MANY_AND_QUEUE, [list(column) for column in zip(*map(_parameters, rows), strict=True)]
            )
    else:
        with transaction.atomic():
            built = AuditEvent.objects.bulk_create([AuditEvent(**_model_fields(row)) for row in rows])
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
