"""The audit trail as a transparency log (RFC 6962 Merkle tree, C2SP signed checkpoints).

Writers only insert: an event and a queue row, in their own transaction, with no lock and no
ordering among them (``portal.audit.record_event``). The sequencer, one at a time, takes the queued
events it can see, gives them consecutive leaf indexes, stores the tree's new complete subtrees and
signs a checkpoint, all in one transaction. Anyone holding an earlier checkpoint can then check that
the log has only grown since (a consistency proof) and that an entry is in it (an inclusion proof).
"""

import base64
import bisect
import functools
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from . import merkle
from .audit import entry_bytes
from .merkle import Node
from .models import AuditCheckpoint, AuditEvent, AuditLogLeaf, AuditLogNode, AuditLogQueue
from .signednote import Checkpoint, NoteError, Signer, Verifier, open_checkpoint

_SEQUENCER_LOCK_KEY = 0x544C4F47  # taken only by the sequencer; writers never wait on it

# Sent, with ``checkpoint``, for each checkpoint that goes out to witnesses (at most every
# AUDIT_LOG_PUBLISH_INTERVAL seconds).
checkpoint_published = Signal()


@functools.cache
def _signer(key: str) -> Signer:
    return Signer.parse(key)


def signer() -> Signer:
    return _signer(settings.AUDIT_LOG_SIGNING_KEY)


def verifier() -> Verifier:
    return signer().verifier


def origin() -> str:
    return settings.AUDIT_LOG_ORIGIN


# --- Reading the tree -------------------------------------------------------------------------


def fetch_nodes(keys: Iterable[Node]) -> dict[Node, bytes]:
    by_level: dict[int, list[int]] = {}
    for level, index in keys:
        by_level.setdefault(level, []).append(index)
    if not by_level:
        return {}
    query = Q()
    for level, indexes in by_level.items():
        query |= Q(level=level, index__in=indexes)
    rows = AuditLogNode.objects.filter(query).values_list("level", "index", "hash")
    return {(level, index): bytes(value) for level, index, value in rows}


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-tree_size").first()


def tree_size() -> int:
    latest = latest_checkpoint()
    return latest.tree_size if latest else 0


def root_at(size: int) -> bytes:
    return merkle.root(size, fetch_nodes)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """Raises merkle.ProofError for an index or size the log cannot prove."""
    if size > tree_size():
        raise merkle.ProofError(f"the log has no checkpoint of size {size} yet")
    return merkle.prove(merkle.inclusion_ranges(index, size), fetch_nodes)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    if new_size > tree_size():
        raise merkle.ProofError(f"the log has no checkpoint of size {new_size} yet")
    return merkle.prove(merkle.consistency_ranges(old_size, new_size), fetch_nodes)


def b64(values: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(value).decode() for value in values]


def entry_proof(event: AuditEvent) -> dict | None:
    """Everything a person needs to check one entry outside the portal, or None if not yet sequenced."""
    leaf = AuditLogLeaf.objects.filter(event=event).first()
    latest = latest_checkpoint()
    if leaf is None or latest is None:
        return None
    entry = entry_bytes(event)
    return {
        "index": leaf.index,
        "tree_size": latest.tree_size,
        "entry": entry.decode(),
        "leaf_hash": base64.b64encode(merkle.leaf_hash(entry)).decode(),
        "inclusion_proof": b64(inclusion_proof(leaf.index, latest.tree_size)),
        "checkpoint": latest.note,
        "verifier_key": str(verifier()),
    }


# --- The sequencer ----------------------------------------------------------------------------


def _take_sequencer_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite allows one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
        return cursor.fetchone()[0]


def _sign(size: int, root_hash: bytes) -> str:
    return signer().sign(Checkpoint(origin=origin(), size=size, root_hash=root_hash).text())


def _due_for_publishing(now) -> bool:
    last = AuditCheckpoint.objects.filter(published=True).order_by("-tree_size").first()
    return last is None or (now - last.created_at).total_seconds() >= settings.AUDIT_LOG_PUBLISH_INTERVAL


def _leaf_hashes(queued: list[tuple]) -> list[bytes]:
    """The writers' leaf hashes (verify_audit recomputes them all from the entries); events from the
    hash-chain days carry another hash and are hashed here."""
    legacy = AuditEvent.objects.in_bulk([row[1] for row in queued if row[3]])
    return [
        merkle.leaf_hash(entry_bytes(legacy[event_id])) if previous else bytes.fromhex(value)
        for _, event_id, value, previous in queued
    ]


def _store(old_size: int, queued: list[tuple], created: dict[Node, bytes]) -> None:
    leaves = [(old_size + n, row[1]) for n, row in enumerate(queued)]
    nodes = [(level, index, value) for (level, index), value in created.items()]
    queue_ids = [row[0] for row in queued]
    if connection.vendor != "postgresql":
        AuditLogLeaf.objects.bulk_create([AuditLogLeaf(index=i, event_id=e) for i, e in leaves])
        AuditLogNode.objects.bulk_create([AuditLogNode(level=lv, index=i, hash=h) for lv, i, h in nodes])
        AuditLogQueue.objects.filter(id__in=queue_ids).delete()
        return
    # Arrays instead of the ORM's bulk_create: a batch of thousands costs three statements and
    # almost no Python, so one sequencer keeps up with many writers.
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO portal_auditlogleaf ("index", event_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])',
            [[i for i, _ in leaves], [e for _, e in leaves]],
        )
        cursor.execute(
            'INSERT INTO portal_auditlognode (level, "index", hash) '
            "SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])",
            [[lv for lv, _, _ in nodes], [i for _, i, _ in nodes], [h for _, _, h in nodes]],
        )
        cursor.execute("DELETE FROM portal_auditlogqueue WHERE id = ANY(%s::bigint[])", [queue_ids])


def _sequence_batch(limit: int) -> tuple[AuditCheckpoint | None, int]:
    """One batch in one transaction: a crash anywhere leaves the log and the queue as they were."""
    with transaction.atomic(durable=True):
        if not _take_sequencer_lock():
            return None, 0
        previous = latest_checkpoint()
        old_size = previous.tree_size if previous else 0
        queued = list(
            AuditLogQueue.objects.order_by("id").values_list(
                "id", "event_id", "event__hash", "event__previous_hash"
            )[:limit]
        )
        if not queued and previous is not None:
            return None, 0
        leaves = _leaf_hashes(queued)
        frontier = fetch_nodes(merkle.range_nodes(0, old_size))
        created = merkle.extend(old_size, frontier, leaves)
        new_size = old_size + len(leaves)
        _store(old_size, queued, created)
        root_hash = merkle.range_hash(0, new_size, {**frontier, **created})
        now = timezone.now()
        checkpoint = AuditCheckpoint.objects.create(
            tree_size=new_size,
            root_hash=root_hash,
            note=_sign(new_size, root_hash),
            published=_due_for_publishing(now),
            created_at=now,
        )
        if checkpoint.published:
            # Receivers (authorities' event outbox) write in this transaction: sent exactly when signed.
            checkpoint_published.send(sender=AuditCheckpoint, checkpoint=checkpoint)
        return checkpoint, len(queued)


def sequence(*, batch_size: int | None = None) -> AuditCheckpoint | None:
    """Integrate every committed, unsequenced event into the tree; the newest checkpoint made, if any.

    Returns None without waiting when another sequencer is running: what it misses, the next run takes.
    """
    limit = batch_size or settings.AUDIT_LOG_BATCH_SIZE
    newest = None
    while True:
        checkpoint, count = _sequence_batch(limit)
        newest = checkpoint or newest
        if count < limit:
            return newest


def _sequence_after_commit() -> None:
    from .tasks import sequence_audit_log

    sequence_audit_log.delay()


def sequence_after_commit() -> None:
    """In the embedded demo (no beat) keep the log current: sequence once after this transaction."""
    if not any(callback is _sequence_after_commit for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(_sequence_after_commit, robust=True)


# --- Verifying the whole log ------------------------------------------------------------------


OUTSIDE = "the checkpoint held outside"


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    waiting: int = 0
    external: list[Checkpoint] = field(default_factory=list)
    outside_agrees: dict[int, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_checkpoint(source: str) -> str:
    """A signed checkpoint from a file or from a URL (another copy's /api/v1/log/checkpoint)."""
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (http(s) only)
            return response.read(64 * 1024).decode()
    with open(source, encoding="utf-8") as file:
        return file.read()


def verify_log(*, external_notes: Iterable[str] = (), chunk: int = 5000) -> Report:
    """Recompute the tree from the entries and hold every checkpoint, stored or held outside, against it."""
    report = Report()
    key = verifier()
    targets: dict[int, list[tuple[str, bytes]]] = {}  # size -> (what, root)
    for note in external_notes:
        try:
            checkpoint = open_checkpoint(note, key, origin())
        except NoteError as error:
            report.problems.append(f"The checkpoint held outside is refused: {error}")
            continue
        report.external.append(checkpoint)
        targets.setdefault(checkpoint.size, []).append((OUTSIDE, checkpoint.root_hash))
    for stored in AuditCheckpoint.objects.order_by("tree_size").iterator():
        report.checkpoints += 1
        try:
            signed = open_checkpoint(stored.note, key, origin())
        except NoteError as error:
            report.problems.append(f"The stored checkpoint of size {stored.tree_size} is refused: {error}")
            continue
        if signed.size != stored.tree_size or signed.root_hash != bytes(stored.root_hash):
            report.problems.append(
                f"The stored checkpoint of size {stored.tree_size} differs from its signed note."
            )
        targets.setdefault(signed.size, []).append(("the stored checkpoint", signed.root_hash))

    if 0 in targets:
        _check_root(report, 0, merkle.EMPTY_ROOT, targets.pop(0))
    frontier: dict[Node, bytes] = {}
    size = 0
    sizes = sorted(targets)
    leaves = AuditLogLeaf.objects.order_by("index").select_related("event").iterator(chunk_size=chunk)
    batch: list[AuditLogLeaf] = []
    gap = False

    def integrate(batch: list[AuditLogLeaf]) -> None:
        nonlocal frontier, size
        hashes = [merkle.leaf_hash(entry_bytes(leaf.event)) for leaf in batch]
        stored_leaves = fetch_nodes((0, leaf.index) for leaf in batch)
        for leaf, value in zip(batch, hashes, strict=True):
            if stored_leaves.get((0, leaf.index)) != value:
                report.problems.append(
                    f"Entry {leaf.index} (event {leaf.event.uuid}) has been changed: its content does not "
                    "match the hash the log recorded for it."
                )
        created = merkle.extend(size, frontier, hashes)
        stored_nodes = fetch_nodes(node for node in created if node[0] > 0)
        for node, value in created.items():
            if node[0] > 0 and stored_nodes.get(node) != value:
                report.problems.append(f"The stored tree node {node} does not match the entries below it.")
        known = {**frontier, **created}
        size += len(batch)
        frontier = {node: known[node] for node in merkle.range_nodes(0, size)}
        if size in targets:
            _check_root(report, size, merkle.range_hash(0, size, frontier), targets.pop(size))

    for leaf in leaves:
        if leaf.index != size + len(batch):
            report.problems.append(
                f"Entry {size + len(batch)} is missing: the log goes on at entry {leaf.index}; "
                "nothing after it can be checked."
            )
            gap = True
            break
        batch.append(leaf)
        position = bisect.bisect_right(sizes, size)
        next_target = sizes[position] if position < len(sizes) else None
        if len(batch) >= chunk or size + len(batch) == next_target:
            integrate(batch)
            batch = []
    if batch:
        integrate(batch)
    report.entries = size
    if not gap:
        for missing_size in sorted(targets):
            for what, _ in targets[missing_size]:
                report.problems.append(
                    f"Entries {size} to {missing_size - 1} are missing: {what} was signed over "
                    f"{missing_size} entries, the log has {size}."
                )
    _check_external_consistency(report, size)
    report.waiting = AuditLogQueue.objects.count()
    lost = AuditEvent.objects.filter(log_leaf__isnull=True).exclude(
        pk__in=AuditLogQueue.objects.values("event_id")
    )
    for event in lost[:20]:
        report.problems.append(f"Event {event.pk} ({event.uuid}) is neither in the log nor waiting for it.")
    return report


def _check_root(report: Report, size: int, computed: bytes, expected: list[tuple[str, bytes]]) -> None:
    for what, root_hash in expected:
        if what == OUTSIDE:
            report.outside_agrees[size] = root_hash == computed
        if root_hash != computed:
            # Checkpoints held outside cannot have been re-signed after a rewrite, so the largest one
            # that still agrees bounds where the change lies.
            agreeing = [s for s, agrees in report.outside_agrees.items() if agrees and s < size]
            start = max(agreeing, default=0)
            report.problems.append(
                f"The first {size} entries are not the ones {what} of size {size} was signed over: "
                f"an entry from {start} to {size - 1} has been rewritten, removed or reordered."
            )


def _check_external_consistency(report: Report, size: int) -> None:
    """What a witness does: ask the log's own proof that it has only grown since the checkpoint."""
    for checkpoint in report.external:
        if checkpoint.size > size or checkpoint.size > tree_size():
            continue  # already reported as missing entries
        latest = tree_size()
        proof = consistency_proof(checkpoint.size, latest)
        if not merkle.verify_consistency(
            checkpoint.size, latest, proof, checkpoint.root_hash, root_at(latest)
        ):
            report.problems.append(
                f"The log of {latest} entries is not a consistent extension of the checkpoint of size "
                f"{checkpoint.size} held outside."
            )
