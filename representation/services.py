"""Every change to a legal representation happens here: the register import and the family court's
caseworkers. Each function is one durable transaction that changes the relations, keeps their guardian
rows in step (``projection``) and writes the audit trail."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.catalogue.selectors import authority_of_caseworker
from portal.audit import record_event
from portal.cpr import normalize_cpr
from portal.errors import Conflict, NotAllowed
from portal.models import User

from . import projection
from .models import COPENHAGEN, Kind, RegisterImport, Representation, Scope, Source, coming_of_age

# --- The register extract ----------------------------------------------------------------------
# The format is documented in docs/legal-representatives.md.

#: The people's field names per kind: (represented, representative).
PARTY_FIELDS = {
    Kind.PARENTAL_CUSTODY: ("child", "custodian"),
    Kind.GUARDIANSHIP: ("ward", "guardian"),
}
MAX_LINE_LENGTH = 2000


class LineRejected(Exception):
    """A line of the extract that cannot be imported; ``key`` is its relation if that could be read."""

    def __init__(self, message: str, key: tuple | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


@dataclass(frozen=True)
class RegisterLine:
    kind: str
    represented: str
    representative: str
    valid_from: datetime.datetime
    valid_until: datetime.datetime | None
    sequence: int
    scope: str = ""
    decision_reference: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.represented, self.representative)


@dataclass
class ImportResult:
    added: int = 0
    changed: int = 0
    ended: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "changed": self.changed,
            "ended": self.ended,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=COPENHAGEN)


def _date(value, name: str) -> datetime.date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise LineRejected(_("“%(field)s” must be a date written YYYY-MM-DD.") % {"field": name})


def _cpr(value, name: str) -> str:
    if not isinstance(value, str):
        raise LineRejected(_("“%(field)s” must be a CPR number.") % {"field": name})
    try:
        return normalize_cpr(value)
    except ValidationError as error:
        raise LineRejected(f"“{name}”: {' '.join(error.messages)}") from None


def parse_line(text: str) -> RegisterLine:
    """One line of the extract as a relation, or LineRejected saying what is wrong with it."""
    if len(text) > MAX_LINE_LENGTH:
        raise LineRejected(_("The line is too long."))
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        raise LineRejected(_("The line is not a JSON object.")) from None
    if not isinstance(record, dict):
        raise LineRejected(_("The line is not a JSON object."))
    kind = record.get("type")
    if kind not in PARTY_FIELDS:
        raise LineRejected(_("“type” must be parental_custody or guardianship."))
    represented_field, representative_field = PARTY_FIELDS[kind]
    represented = _cpr(record.get(represented_field), represented_field)
    representative = _cpr(record.get(representative_field), representative_field)
    key = (kind, represented, representative)
    try:
        return _relation(kind, represented, representative, record)
    except LineRejected as error:
        # The people could be read: the relation stays as it is rather than being ended.
        raise LineRejected(error.message, key=key) from None


def _relation(kind: str, represented: str, representative: str, record: dict) -> RegisterLine:
    if represented == representative:
        raise LineRejected(_("A person cannot represent themselves."))
    expected = {"type", "from", "to", "sequence", *PARTY_FIELDS[kind]}
    if kind == Kind.GUARDIANSHIP:
        expected |= {"scope", "reference"}
    unknown = sorted(set(record) - expected)
    if unknown:
        raise LineRejected(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)})
    sequence = record.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 0 <= sequence < 2**62:
        raise LineRejected(_("“sequence” must be a whole number, 0 or more."))
    valid_from = _start_of(_date(record.get("from"), "from"))
    last_day = record.get("to")
    # "to" is the last day the relation applies: it ends at the start of the next day.
    valid_until = (
        _start_of(_date(last_day, "to") + datetime.timedelta(days=1)) if last_day is not None else None
    )
    scope = reference = ""
    if kind == Kind.PARENTAL_CUSTODY:
        # Custody ends by law on the child's 18th birthday, whatever the extract says.
        of_age = coming_of_age(represented)
        valid_until = min(valid_until, of_age) if valid_until is not None else of_age
    else:
        scope = record.get("scope")
        if scope not in Scope.values:
            raise LineRejected(_("“scope” must be personal, financial or both."))
        reference = record.get("reference")
        if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
            raise LineRejected(_("“reference” must be the decision's reference, at most 100 characters."))
        reference = reference.strip()
    if valid_until is not None and valid_until <= valid_from:
        if kind == Kind.PARENTAL_CUSTODY and valid_until == coming_of_age(represented):
            raise LineRejected(_("The child is 18 or older on the day custody starts."))
        raise LineRejected(_("“to” must not be before “from”."))
    return RegisterLine(
        kind, represented, representative, valid_from, valid_until, sequence, scope, reference
    )


def _same(relation: Representation, line: RegisterLine) -> bool:
    return (
        relation.valid_from == line.valid_from
        and relation.valid_until == line.valid_until
        and relation.scope == line.scope
        and relation.decision_reference == line.decision_reference
    )


def _principal(national_id: str) -> User | None:
    return User.objects.with_verified_cpr(national_id).first()


def _audit(action: str, relation: Representation, actor: User | None, **details) -> None:
    # The audit trail names people by account, never by CPR number; the ward or child sees it.
    representative = _principal(relation.representative_national_id)
    record_event(
        action=f"representation.{action}",
        actor=actor,
        principal=_principal(relation.represented_national_id),
        target=relation,
        details={
            "kind": relation.kind,
            "source": relation.source,
            "representative": representative.pk if representative else None,
            **details,
        },
    )


def _decode(lines: Iterable[bytes | str]) -> Iterable[tuple[int, str | None]]:
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
                continue
        yield number, raw.strip().lstrip("\ufeff")


def import_register_extract(*, lines: Iterable[bytes | str], file_name: str) -> ImportResult:
    """Bring the register's relations in step with one daily extract, in one transaction.

    The extract is the whole register: a relation in it is added, changed (when its sequence is
    newer) or left unchanged; a relation imported earlier and missing from it now ends. A line that
    cannot be read is reported with its number and skipped; if its people could still be read, their
    relation is left as it was rather than ended. Running the same extract again changes nothing.
    Caseworkers' registrations are never touched by the register.
    """
    result = ImportResult()
    digest = hashlib.sha256()
    now = timezone.now()
    with transaction.atomic(durable=True):
        existing = {
            (r.kind, r.represented_national_id, r.representative_national_id): r
            for r in Representation.objects.select_for_update().current().filter(source=Source.REGISTER)
        }
        seen: set[tuple] = set()

        def reject(number: int, message: str) -> None:
            result.rejected += 1
            result.rejections.append((number, message))

        def lines_hashed():
            for raw in lines:
                digest.update(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))
                yield raw

        for number, text in _decode(lines_hashed()):
            if text is None:
                reject(number, _("The line is not UTF-8 text."))
                continue
            if not text:
                continue
            try:
                line = parse_line(text)
            except LineRejected as error:
                reject(number, error.message)
                if error.key is not None:
                    seen.add(error.key)
                continue
            if line.key in seen:
                reject(number, _("The same relation is already on an earlier line."))
                continue
            seen.add(line.key)
            relation = existing.get(line.key)
            if relation is None:
                relation = Representation.objects.create(
                    kind=line.kind,
                    represented_national_id=line.represented,
                    representative_national_id=line.representative,
                    scope=line.scope,
                    decision_reference=line.decision_reference,
                    valid_from=line.valid_from,
                    valid_until=line.valid_until,
                    source=Source.REGISTER,
                    register_sequence=line.sequence,
                )
                projection.project(relation)
                _audit("registered", relation, None)
                result.added += 1
            elif _same(relation, line):
                result.unchanged += 1
            elif relation.register_sequence is not None and line.sequence <= relation.register_sequence:
                reject(
                    number, _("The relation has changed but its sequence is not newer than the one imported.")
                )
            else:
                relation.valid_from, relation.valid_until = line.valid_from, line.valid_until
                relation.scope, relation.decision_reference = line.scope, line.decision_reference
                relation.register_sequence = line.sequence
                relation.save()
                projection.project(relation)
                _audit("changed", relation, None)
                result.changed += 1
        for key, relation in existing.items():
            if key in seen:
                continue
            relation.ended_at = now
            relation.end_reason = "No longer in the register extract."
            relation.save(update_fields=["ended_at", "end_reason", "updated_at"])
            projection.remove([relation])
            _audit("ended", relation, None)
            result.ended += 1
        RegisterImport.objects.create(
            file_name=file_name[:255],
            file_sha256=digest.hexdigest(),
            started_at=now,
            rejections=[{"line": number, "message": message} for number, message in result.rejections],
            **result.counts(),
        )
        record_event(
            action="representation.register_imported",
            actor=None,
            details={"file_sha256": digest.hexdigest(), **result.counts()},
        )
    return result


def import_register_file(*, path) -> ImportResult:
    """The extract at ``path`` (the command and the daily task)."""
    with open(path, "rb") as extract:
        return import_register_extract(lines=extract, file_name=str(path).rsplit("/", 1)[-1])


# --- Guardianships registered by the family court authority ------------------------------------


def may_register_guardianships(user: User) -> bool:
    """Caseworkers at the family court authority, and nobody else."""
    authority = authority_of_caseworker(user)
    return authority is not None and authority.slug == settings.FAMILY_COURT_AUTHORITY_SLUG


def _require_family_court_caseworker(user: User) -> None:
    if not may_register_guardianships(user):
        raise NotAllowed(_("Only caseworkers at the family court authority register guardianships."))


def register_guardianship(
    *,
    acting_user: User,
    ward_national_id: str,
    guardian_national_id: str,
    scope: str,
    decision_reference: str,
    valid_from: datetime.datetime,
    valid_until: datetime.datetime | None,
) -> Representation:
    """A caseworker at the family court authority registers a guardianship from its decision.

    The ward cannot revoke it in the portal: it is a court decision, ended only by the authority.
    One open guardianship between the same two people at a time.
    """
    _require_family_court_caseworker(acting_user)
    errors = {}
    try:
        ward = normalize_cpr(ward_national_id)
    except ValidationError as error:
        errors["ward_national_id"] = error.messages
    try:
        guardian = normalize_cpr(guardian_national_id)
    except ValidationError as error:
        errors["guardian_national_id"] = error.messages
    if not errors and ward == guardian:
        errors["guardian_national_id"] = [_("A person cannot be their own guardian.")]
    if scope not in Scope.values:
        errors["scope"] = [_("Choose the scope of the guardianship.")]
    decision_reference = (decision_reference or "").strip()
    if not decision_reference:
        errors["decision_reference"] = [_("Enter the reference of the decision.")]
    if valid_until is not None and valid_until <= valid_from:
        errors["valid_until"] = [_("The end must be after the start.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        if (
            Representation.objects.current()
            .filter(kind=Kind.GUARDIANSHIP, represented_national_id=ward, representative_national_id=guardian)
            .exists()
        ):
            raise Conflict(_("This guardian already has a guardianship for this person that has not ended."))
        relation = Representation.objects.create(
            kind=Kind.GUARDIANSHIP,
            represented_national_id=ward,
            representative_national_id=guardian,
            scope=scope,
            decision_reference=decision_reference[:100],
            valid_from=valid_from,
            valid_until=valid_until,
            source=Source.CASEWORKER,
            registered_by=acting_user,
        )
        projection.project(relation)
        _audit("registered", relation, acting_user)
    return relation


def end_guardianship(*, acting_user: User, representation: Representation, reason: str) -> Representation:
    """A caseworker at the family court authority ends a guardianship (a new decision); at once."""
    _require_family_court_caseworker(acting_user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason, e.g. the decision that ends it.")})
    with transaction.atomic(durable=True):
        relation = Representation.objects.select_for_update().get(pk=representation.pk)
        if relation.kind != Kind.GUARDIANSHIP or relation.ended_at is not None:
            raise Conflict(_("This guardianship has already ended."))
        if relation.source != Source.CASEWORKER:
            raise Conflict(_("A guardianship from the register ends in the register."))
        relation.ended_at = timezone.now()
        relation.ended_by = acting_user
        relation.end_reason = reason[:2000]
        relation.save(update_fields=["ended_at", "ended_by", "end_reason", "updated_at"])
        projection.remove([relation])
        _audit("ended", relation, acting_user)
    return relation
