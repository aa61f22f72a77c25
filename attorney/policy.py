"""May this person act for that one, with this right, at this moment? The one place that decides.

Everything that asks – the act-for middleware, the attorney's pages, digital post, applications,
consent, the admin and the authorities' API – calls ``authorize`` (or ``can_act_for``, a boolean
over it, or ``authorize_by_cpr`` for the API). Nothing else filters powers of attorney by status or
period: "in force" is defined once, by ``PowerOfAttorneyQuerySet.in_force``.

How a decision is made:

1. **Fast path** (the common case, a permit now): one indexed query for a mandate in force with the
   right *and* its django-guardian permission row on the grantor's file, in period. Both must
   agree, so a mandate whose row is missing, or a row left behind by an ended mandate, permits
   nothing.
2. **Explanation** (a denial, or a question about another moment): the mandates' history says why
   – no power of attorney, right not granted, not yet valid, expired, ended. For the present moment
   this step never permits on its own: if history would permit but step 1 did not, the projection
   is out of step, which is logged and denied. Everything between the two people (their mandates
   with their rights, their legal representations) is read in one prepared statement
   (``_pair_history``), and the rules decide from those plain rows.

Both steps are asked for many questions at once too (``authorize_many_by_cpr``, the API's batch):
one statement for all the permits, one for the history of the rest.

The guardian rows are a projection of the mandates, written (``grant_object_permissions``,
``remove_object_permissions``) and read (step 1, ``permitted_files``) only here. They carry the
mandate's period, so guardian's own checks also say no the second a mandate runs out.

**Legal representatives.** Besides a power of attorney, a person may act for another by law: a parent
with custody for a child, a guardian for a ward (``representation``). They are decided here too, by
the same two steps, each right after the mandates' own: a representation in force that covers the
right (by the catalogue) *and* its guardian row; then its history explains a denial (the child has
turned 18, custody or guardianship ended, outside the guardianship's scope). The register floor
writes those rows (``representation.projection``) in the same transaction that changes the relation.
Every decision names its basis: ``power_of_attorney``, ``parental_custody`` or ``guardianship``.

**Organisations as attorneys.** A power of attorney may be given to an organisation (by CVR number);
its members act through it, each with the access an administrator gave them
(``OrganisationAccess``). Decided by the same two steps, after the person's own mandates: a mandate
to the organisation in force with the right *and* the member's own guardian row on it (written per
member with access, removed the moment access or membership ends); then history explains a denial,
with "no access" when the organisation holds a mandate that covers it but the member may not use
it. In the portal a member acts through any organisation they belong to; the API asks about one
organisation by name (``on_behalf_of_organisation``) or about the person alone.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection
from django.db.models import (
    DEFERRED,
    BooleanField,
    CharField,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import get_objects_for_user

from authorities.catalogue.models import CitizenFile, CitizenFileUserObjectPermission, Matters, Right
from organisations.models import Membership, Organisation
from portal import prepared
from portal.models import User
from representation.models import Kind, Representation, is_minor, scopes_covering
from representation.projection import rights_covered

from .models import OrganisationAccess, PowerOfAttorney, Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)


class Reason:
    SELF = "self"
    POWER_OF_ATTORNEY = "power_of_attorney"
    NO_POWER_OF_ATTORNEY = "no_power_of_attorney"
    RIGHT_NOT_GRANTED = "right_not_granted"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    # Legal representatives
    PARENTAL_CUSTODY = "parental_custody"
    GUARDIANSHIP = "guardianship"
    CUSTODY_DOES_NOT_COVER = "custody_does_not_cover"
    OUTSIDE_GUARDIANSHIP_SCOPE = "outside_guardianship_scope"
    REPRESENTATION_NOT_YET_VALID = "representation_not_yet_valid"
    CHILD_CAME_OF_AGE = "child_came_of_age"
    CUSTODY_ENDED = "custody_ended"
    GUARDIANSHIP_ENDED = "guardianship_ended"
    # Organisations as attorneys
    NO_ORGANISATION_ACCESS = "no_organisation_access"


REASON_TEXT = {
    Reason.SELF: _("You are acting for yourself."),
    Reason.POWER_OF_ATTORNEY: _("The power of attorney covers this."),
    Reason.NO_POWER_OF_ATTORNEY: _("You do not have a power of attorney from this person."),
    Reason.RIGHT_NOT_GRANTED: _("Your power of attorney does not cover this."),
    Reason.NOT_YET_VALID: _("Your power of attorney is not valid yet."),
    Reason.EXPIRED: _("Your power of attorney has expired."),
    Reason.REVOKED: _("Your power of attorney has been ended."),
    Reason.PARENTAL_CUSTODY: _("You have parental custody of this child, which covers this."),
    Reason.GUARDIANSHIP: _("You are this person's guardian, and the guardianship covers this."),
    Reason.CUSTODY_DOES_NOT_COVER: _("Parental custody does not cover this in the portal."),
    Reason.OUTSIDE_GUARDIANSHIP_SCOPE: _("This is outside the scope of your guardianship."),
    Reason.REPRESENTATION_NOT_YET_VALID: _("Your custody or guardianship does not apply yet."),
    Reason.CHILD_CAME_OF_AGE: _("The child has turned 18, so your parental custody has ended."),
    Reason.CUSTODY_ENDED: _("Your parental custody has ended."),
    Reason.GUARDIANSHIP_ENDED: _("The guardianship has ended."),
    Reason.NO_ORGANISATION_ACCESS: _(
        "The organisation holds a power of attorney that covers this, but you have no access to it. "
        "An administrator of the organisation can give you access."
    ),
}


class Basis:
    """What a permit rests on."""

    SELF = "self"
    POWER_OF_ATTORNEY = "power_of_attorney"
    PARENTAL_CUSTODY = Kind.PARENTAL_CUSTODY.value
    GUARDIANSHIP = Kind.GUARDIANSHIP.value


_PERMIT_BASIS = {
    Reason.SELF: Basis.SELF,
    Reason.POWER_OF_ATTORNEY: Basis.POWER_OF_ATTORNEY,
    Reason.PARENTAL_CUSTODY: Basis.PARENTAL_CUSTODY,
    Reason.GUARDIANSHIP: Basis.GUARDIANSHIP,
}


@dataclass(frozen=True)
class Decision:
    permitted: bool
    reason: str
    power_of_attorney: PowerOfAttorney | None = None
    rights: frozenset[str] = field(default_factory=frozenset)
    representation: Representation | None = None

    @property
    def basis(self) -> str | None:
        """``self``, ``power_of_attorney``, ``parental_custody`` or ``guardianship`` for a permit."""
        return _PERMIT_BASIS[self.reason] if self.permitted else None

    @property
    def explanation(self) -> str:
        return str(REASON_TEXT[self.reason])

    @property
    def organisation_id(self) -> int | None:
        """The organisation whose power of attorney the decision rests on, if any."""
        return self.power_of_attorney.organisation_id if self.power_of_attorney is not None else None

    @property
    def valid_until(self) -> datetime | None:
        if self.representation is not None:
            return self.representation.ends_at
        return self.power_of_attorney.valid_until if self.power_of_attorney else None


_SELF = Decision(True, Reason.SELF)
_NONE = Decision(False, Reason.NO_POWER_OF_ATTORNEY)


# --- The fast path ------------------------------------------------------------------------------
#
# Asked on every API decision, so it is kept close to what the database itself needs: one indexed
# statement. The statement is built by the ORM from ``in_force`` (the one definition of "in force"),
# but only once per process and shape of question: the SQL and the positions of its parameters are
# kept, and later questions only fill in the values and run it as a prepared statement on
# PostgreSQL. No query compiling, no model instances, no ``Meta.ordering`` joins on the way.


def _permit_query(*, parties: Q, member: Q | None, right_id, permission_id, now) -> QuerySet:
    """The fast path's question as a queryset: the newest-ending mandate in force now with the
    right and its guardian row on the grantor's file, in period (both must agree).

    Without ``member`` the mandates are a person's own (``parties`` names the attorney). With it they
    are organisations' mandates, and the row must be that member's own: an active, verified person
    whose access to the mandate is current (the row exists only while it is).
    """
    object_permission = CitizenFileUserObjectPermission.all_rows.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        power_of_attorney=OuterRef("pk"),
        permission_id=permission_id,
        valid_from__lte=now,
    )
    mandates = PowerOfAttorney.objects.in_force(now).filter(parties, rights=right_id)
    if member is not None:
        mandates = mandates.filter(organisation__isnull=False)
        object_permission = object_permission.filter(
            member, user__identity_verified_at__isnull=False, user__is_active=True
        )
    return (
        mandates.filter(Exists(object_permission))
        .order_by("-valid_until")
        .values_list("pk", "valid_until", "organisation_id")[:1]
    )


def _statement_for(parties: Q, member: Q | None) -> prepared.Statement:
    """``_permit_query`` compiled once for one shape of ``parties`` and ``member`` (by user or by CPR
    number, a person's mandates or an organisation's)."""
    lookups = tuple(lookup for lookup, _ in parties.children)
    member_lookups = tuple(lookup for lookup, _ in member.children) if member is not None else ()
    key = (lookups, member_lookups if member is not None else None)
    statement = _statements.get(key)
    if statement is None:
        kinds = {
            f"party{n}": prepared.TEXT if isinstance(value, str) else prepared.NUMBER
            for n, (_, value) in enumerate([*parties.children, *(member.children if member else ())])
        }

        def build(**values) -> QuerySet:
            slots = iter(values[name] for name in kinds)
            return _permit_query(
                parties=Q(**{lookup: next(slots) for lookup in lookups}),
                member=Q(**{lookup: next(slots) for lookup in member_lookups})
                if member is not None
                else None,
                right_id=values["right"],
                permission_id=values["permission"],
                now=values["now"],
            )

        statement = _statements[key] = prepared.Statement(
            build, **kinds, right=prepared.NUMBER, permission=prepared.NUMBER, now=prepared.MOMENT
        )
    return statement


_statements: dict[tuple, prepared.Statement] = {}


def _simple(condition: Q | None) -> bool:
    return condition is None or (
        all(isinstance(child, tuple) for child in condition.children) and not condition.negated
    )


def _party_values(parties: Q, member: Q | None) -> dict:
    children = [*parties.children, *(member.children if member is not None else ())]
    return {f"party{n}": getattr(value, "pk", value) for n, (_, value) in enumerate(children)}


def _mandate_from_permit(row) -> PowerOfAttorney:
    return _loaded(PowerOfAttorney, ("id", "valid_until", "organisation_id"), row)


def _permit_now(*, parties: Q, right: Right, member: Q | None = None) -> PowerOfAttorney | None:
    """A mandate in force now with the right and its guardian row on the grantor's file, in period:
    a person's own (``parties`` names the attorney), or with ``member`` an organisation's, used by
    that member."""
    now = timezone.now()
    if not (_simple(parties) and _simple(member)):
        query = _permit_query(
            parties=parties, member=member, right_id=right.pk, permission_id=right.permission_id, now=now
        )
        found = next(iter(query), None)
    else:
        rows = _statement_for(parties, member).rows(
            **_party_values(parties, member), right=right.pk, permission=right.permission_id, now=now
        )
        found = rows[0] if rows else None
    return _mandate_from_permit(found) if found else None


# --- The explanation from history -------------------------------------------------------------
#
# A denial (or a question about another moment) is explained from what lies between the two people:
# the accepted mandates from the principal to the actor, each with its rights, and the legal
# representations between them. ``_pair_history`` reads all of it in one statement (compiled once,
# prepared, like the fast path); the rules below decide from those plain rows, whichever way they
# were read.

# What the explanation reads of a mandate; the rest of its fields load only if someone asks.
MANDATE_FIELDS = (
    "id",
    "grantor_id",
    "attorney_id",
    "organisation_id",
    "status",
    "valid_from",
    "valid_until",
    "activated_at",
    "ended_at",
)
RIGHT_FIELDS = ("rights__id", "rights__code", "rights__service__authority_id")
REPRESENTATION_FIELDS = ("id", "kind", "scope", "valid_from", "valid_until", "ended_at")


def _loaded(model, names: tuple[str, ...], values):
    """An instance of ``model`` from the values a statement read for the fields ``names``; its other
    fields load on first use."""
    attnames, positions = _positions(model, names)
    row = [DEFERRED] * len(attnames)
    for position, value in zip(positions, values, strict=True):
        row[position] = value
    return model.from_db(connection.alias, attnames, row)


@functools.cache
def _positions(model, names: tuple[str, ...]) -> tuple[list[str], tuple[int, ...]]:
    attnames = [field.attname for field in model._meta.concrete_fields]
    return attnames, tuple(attnames.index(name) for name in names)


@dataclass(frozen=True, slots=True)
class MandateRecord:
    """A mandate as its history explains a decision: the mandate (its parties and times) and the
    ids, codes and authorities of its rights."""

    mandate: PowerOfAttorney
    right_ids: frozenset[int]
    right_codes: frozenset[str]
    authority_ids: frozenset[int]


def _mandate_records(rows: Iterable[tuple]) -> list[MandateRecord]:
    """Rows of ``MANDATE_FIELDS`` and ``RIGHT_FIELDS`` (one per mandate and right, or one with no
    right) as records, newest-ending first."""
    width = len(MANDATE_FIELDS)
    grouped: dict = {}
    for row in rows:
        entry = grouped.setdefault(row[0], (row[:width], set(), set(), set()))
        right_id, code, authority_id = row[width : width + 3]
        if right_id is not None:
            entry[1].add(right_id)
            entry[2].add(code)
            entry[3].add(authority_id)
    records = [
        MandateRecord(
            _loaded(PowerOfAttorney, MANDATE_FIELDS, fields),
            frozenset(ids),
            frozenset(codes),
            frozenset(authorities),
        )
        for fields, ids, codes, authorities in grouped.values()
    ]
    records.sort(key=lambda record: record.mandate.valid_until, reverse=True)
    return records


def _history(mandates: QuerySet[PowerOfAttorney]) -> list[MandateRecord]:
    """The accepted mandates among ``mandates`` with their rights, in one query."""
    return _mandate_records(
        mandates.filter(activated_at__isnull=False).order_by().values_list(*MANDATE_FIELDS, *RIGHT_FIELDS)
    )


def _explain_from(
    mandates: list[MandateRecord],
    *,
    right: Right,
    at: datetime,
    authority_ids: set[int] | None,
    usable=lambda mandate: True,
) -> Decision:
    """Why these mandates (newest-ending first) permit or deny ``right`` at ``at``.

    ``usable`` says whether the actor may use a mandate that is in force and covers the right (an
    organisation's member needs access to it); if not, the answer is "no access" to that mandate.
    """
    if authority_ids is not None:
        # Only mandates with rights at these authorities: the answer reveals nothing about others.
        mandates = [m for m in mandates if not m.authority_ids.isdisjoint(authority_ids)]
    if not mandates:
        return _NONE
    covering = [m for m in mandates if right.pk in m.right_ids]
    if not covering:
        return Decision(False, Reason.RIGHT_NOT_GRANTED)
    in_force_covering = [m for m in covering if m.mandate.is_in_force(at)]
    for record in in_force_covering:
        if usable(record.mandate):
            return Decision(True, Reason.POWER_OF_ATTORNEY, record.mandate, record.right_codes)
    if in_force_covering:
        return Decision(False, Reason.NO_ORGANISATION_ACCESS, in_force_covering[0].mandate)
    # A power of attorney in force that lacks the right is the real reason, not an older one with it
    # that has run out: "expired" would tell someone acting for the person that nothing is in force.
    in_force = [m.mandate for m in mandates if m.mandate.is_in_force(at)]
    if in_force:
        return Decision(False, Reason.RIGHT_NOT_GRANTED, in_force[0])
    # Explain by the mandate that was (or will be) closest to covering the moment asked about.
    candidates = [m.mandate for m in covering]
    started = [m for m in candidates if m.activated_at <= at and m.valid_from <= at]
    if not started:
        # A mandate ended before it began will never be valid: say it was ended, not "not yet".
        waiting = [m for m in candidates if m.ended_at is None or m.ended_at > at]
        if not waiting:
            return Decision(False, Reason.REVOKED, max(candidates, key=lambda m: m.ended_at))
        return Decision(False, Reason.NOT_YET_VALID, min(waiting, key=lambda m: m.valid_from))
    latest = max(started, key=lambda m: min(m.ended_at or m.valid_until, m.valid_until))
    # Ended before its period ran out (revoked, resigned, declined, ended by a caseworker); the expiry
    # job ends a mandate at or after valid_until, so an expired one always falls through.
    if latest.ended_at is not None and latest.ended_at <= at and latest.ended_at < latest.valid_until:
        return Decision(False, Reason.REVOKED, latest)
    return Decision(False, Reason.EXPIRED, latest)


@dataclass(frozen=True)
class PairHistory:
    """What lies between an actor and a principal (by CPR number), read at ``now``: the accepted
    mandates from the principal to the actor, and the legal representations between them, with
    those in force now whose guardian row is in period (``usable_now``). Empty unless both people
    are verified and the actor's account is active."""

    now: datetime
    mandates: list[MandateRecord]
    relations: list[Representation]
    usable_now: frozenset


def _pair_history_query(*, actor: str, principal: str, permission: int, now: datetime) -> QuerySet:
    """``PairHistory``'s rows as one queryset: a row per mandate and right, then a row per legal
    representation (told apart by ``activated_at``, which only a mandate's row has)."""

    def nothing(output_field):
        return Value(None, output_field=output_field)

    mandates = (
        PowerOfAttorney.objects.filter(
            activated_at__isnull=False,
            grantor__national_id=principal,
            grantor__identity_verified_at__isnull=False,
            attorney__national_id=actor,
            attorney__identity_verified_at__isnull=False,
            attorney__is_active=True,
        )
        .annotate(
            no_scope=nothing(CharField()),
            no_in_force_now=nothing(BooleanField()),
            no_row_now=nothing(BooleanField()),
        )
        .order_by()
        .values_list(
            "id",
            "status",
            "no_scope",
            "valid_from",
            "valid_until",
            "activated_at",
            "ended_at",
            "organisation_id",
            "grantor_id",
            "attorney_id",
            *RIGHT_FIELDS,
            "no_in_force_now",
            "no_row_now",
        )
    )
    people = Exists(
        User.objects.filter(national_id=actor, identity_verified_at__isnull=False, is_active=True)
    ) & Exists(User.objects.filter(national_id=principal, identity_verified_at__isnull=False))
    row_now = CitizenFileUserObjectPermission.all_rows.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        representation=OuterRef("pk"),
        permission_id=permission,
        valid_from__lte=now,
        user__national_id=actor,
        user__identity_verified_at__isnull=False,
        user__is_active=True,
        content_object__citizen__national_id=principal,
        content_object__citizen__identity_verified_at__isnull=False,
    )
    relations = (
        Representation.objects.filter(
            people, representative_national_id=actor, represented_national_id=principal
        )
        .annotate(
            no_activation=nothing(DateTimeField()),
            no_organisation=nothing(IntegerField()),
            no_grantor=nothing(IntegerField()),
            no_attorney=nothing(IntegerField()),
            no_right=nothing(IntegerField()),
            no_code=nothing(CharField()),
            no_authority=nothing(IntegerField()),
            in_force_now=Exists(Representation.objects.in_force(now).filter(pk=OuterRef("pk"))),
            row_now=Exists(row_now),
        )
        .order_by()
        .values_list(
            "id",
            "kind",
            "scope",
            "valid_from",
            "valid_until",
            "no_activation",
            "ended_at",
            "no_organisation",
            "no_grantor",
            "no_attorney",
            "no_right",
            "no_code",
            "no_authority",
            "in_force_now",
            "row_now",
        )
    )
    return mandates.union(relations, all=True)


@functools.cache
def _pair_history_statement() -> prepared.Statement:
    return prepared.Statement(
        _pair_history_query,
        actor=prepared.TEXT,
        principal=prepared.TEXT,
        permission=prepared.NUMBER,
        now=prepared.MOMENT,
    )


def _pair_history_from(rows: Iterable[tuple], *, actor: str, principal: str, now: datetime) -> PairHistory:
    mandate_rows, relations, usable_now = [], [], set()
    for row in rows:
        if row[5] is not None:  # activated_at: a mandate's row
            (pk, status, _, valid_from, valid_until, activated_at, ended_at, organisation_id) = row[:8]
            grantor_id, attorney_id, right_id, code, authority_id = row[8:13]
            mandate_rows.append(
                (pk, grantor_id, attorney_id, organisation_id, status, valid_from, valid_until)
                + (activated_at, ended_at, right_id, code, authority_id)
            )
            continue
        pk, kind, scope, valid_from, valid_until, _, ended_at = row[:7]
        relation = _loaded(
            Representation,
            REPRESENTATION_FIELDS + ("represented_national_id", "representative_national_id"),
            (pk, kind, scope, valid_from, valid_until, ended_at, principal, actor),
        )
        relations.append(relation)
        if row[13] and row[14]:
            usable_now.add(pk)
    relations.sort(key=lambda relation: relation.valid_from, reverse=True)
    return PairHistory(now, _mandate_records(mandate_rows), relations, frozenset(usable_now))


def _pair_history(*, actor: str, principal: str, right: Right) -> PairHistory:
    """Everything between the two people (by CPR number) that explains a decision, in one statement."""
    now = timezone.now()
    rows = _pair_history_statement().rows(
        actor=actor, principal=principal, permission=right.permission_id, now=now
    )
    return _pair_history_from(rows, actor=actor, principal=principal, now=now)


def _pair_histories(questions: list[tuple[str, str, Right]]) -> list[PairHistory]:
    """``_pair_history`` for many (actor, principal, right) questions, in one statement."""
    now = timezone.now()
    rows = _pair_history_statement().rows_for_many(
        {
            "actor": [actor for actor, _, _ in questions],
            "principal": [principal for _, principal, _ in questions],
            "permission": [right.permission_id for _, _, right in questions],
        },
        now=now,
    )
    by_question: list[list[tuple]] = [[] for _ in questions]
    for index, *row in rows:
        by_question[index].append(row)
    return [
        _pair_history_from(found, actor=actor, principal=principal, now=now)
        for (actor, principal, _), found in zip(questions, by_question, strict=True)
    ]


# --- Organisations' mandates, used by their members ----------------------------------------------


def _is_member_now(actor: User) -> bool:
    return Membership.objects.current().filter(user=actor).exists()


def access_in_force(at: datetime | None = None) -> QuerySet[OrganisationAccess]:
    """The rule of organisations' access, in one place: access lets a member use an organisation's
    powers of attorney at ``at`` (now by default) while it is given and not removed, through a
    membership that has begun and not ended."""
    return OrganisationAccess.objects.current(at).filter(membership__in=Membership.objects.current(at))


def covering(mandate: PowerOfAttorney) -> Q:
    """Access rows that cover an organisation's power of attorney: given for it, or for all of the
    organisation's."""
    return Q(membership__organisation_id=mandate.organisation_id) & (
        Q(power_of_attorney=mandate) | Q(power_of_attorney__isnull=True)
    )


def members_who_may_use(mandate: PowerOfAttorney, at: datetime | None = None) -> QuerySet[User]:
    """The members who may use an organisation's power of attorney at ``at`` (now by default); whether
    the power of attorney itself is in force is the caller's question."""
    return User.objects.filter(
        memberships__access__in=access_in_force(at).filter(covering(mandate))
    ).distinct()


def _organisations_at(*, actor: User, at: datetime, organisation: Organisation | None = None) -> set[int]:
    """The organisations the actor was a member of at ``at`` (or ``organisation`` only, if so)."""
    memberships = Membership.objects.current(at).filter(user=actor)
    if organisation is not None:
        memberships = memberships.filter(organisation=organisation)
    return set(memberships.values_list("organisation_id", flat=True))


def _explain_organisations(
    *,
    actor: User,
    principal: User,
    right: Right,
    at: datetime,
    authority_ids: set[int] | None,
    organisation: Organisation | None = None,
) -> Decision | None:
    """The mandates from the principal to the organisations the actor belonged to at ``at`` (or to
    ``organisation`` only), or None if there are none."""
    organisations = _organisations_at(actor=actor, at=at, organisation=organisation)
    if not organisations:
        return None
    candidates = PowerOfAttorney.objects.filter(grantor=principal, organisation_id__in=organisations)
    mandates = _history(candidates)
    if not mandates:
        return None
    usable_ids = set(
        candidates.filter(organisation_mandates_usable_by(actor, at)).values_list("pk", flat=True)
    )
    decision = _explain_from(
        mandates, right=right, at=at, authority_ids=authority_ids, usable=lambda m: m.pk in usable_ids
    )
    return None if decision is _NONE else decision


# --- Legal representatives: parental custody and guardianship ----------------------------------
# Asked only after the mandates: their permit now, then their history, each right after the mandates'.


def _representation_permit(history: PairHistory, right: Right) -> Representation | None:
    """A representation in force now that covers the right (by the catalogue), with its guardian row
    in period; of several, the first by kind, then the most recent."""
    usable = [r for r in history.relations if r.pk in history.usable_now and r.covers(right)]
    return min(usable, key=lambda r: (r.kind, -r.valid_from.timestamp())) if usable else None


def _permit_by_representation(representation: Representation) -> Decision:
    reason = Reason.PARENTAL_CUSTODY if representation.kind == Kind.PARENTAL_CUSTODY else Reason.GUARDIANSHIP
    return Decision(True, reason, representation=representation)


def _explain_representation(
    relations: list[Representation], *, right: Right, at: datetime, authority_ids: set[int] | None
) -> Decision | None:
    """Why these relations (most recent first) permit or deny ``right`` at ``at``, or None if none
    of them can tell."""
    if authority_ids is not None and relations:
        # Only relations that include a right of these authorities: the answer reveals nothing else.
        rights_there = list(Right.objects.filter(service__authority_id__in=authority_ids))
        relations = [r for r in relations if any(r.covers(there) for there in rights_there)]
    if not relations:
        return None
    covering = [r for r in relations if r.covers(right)]
    if not covering:
        custody = any(r.kind == Kind.PARENTAL_CUSTODY for r in relations)
        return Decision(
            False, Reason.CUSTODY_DOES_NOT_COVER if custody else Reason.OUTSIDE_GUARDIANSHIP_SCOPE
        )
    for relation in covering:
        if relation.is_in_force(at):
            return _permit_by_representation(relation)
    started = [r for r in covering if r.valid_from <= at]
    if not started:
        return Decision(
            False,
            Reason.REPRESENTATION_NOT_YET_VALID,
            representation=min(covering, key=lambda r: r.valid_from),
        )
    latest = max(started, key=lambda r: r.ends_at)
    if latest.came_of_age:
        return Decision(False, Reason.CHILD_CAME_OF_AGE, representation=latest)
    reason = Reason.CUSTODY_ENDED if latest.kind == Kind.PARENTAL_CUSTODY else Reason.GUARDIANSHIP_ENDED
    return Decision(False, reason, representation=latest)


def _either(by_mandate: Decision, by_representation: Decision | None) -> Decision:
    """A permit on either basis permits; a denial is explained by the first basis (the person's own
    mandates before an organisation's, mandates before representation) unless it has nothing."""
    if by_mandate.permitted or by_representation is None:
        return by_mandate
    if by_representation.permitted or by_mandate.reason == Reason.NO_POWER_OF_ATTORNEY:
        return by_representation
    return by_mandate


def _decide_from_history(
    history: PairHistory,
    *,
    right: Right,
    at: datetime | None,
    authority_ids: set[int] | None,
    by_organisations=None,
) -> Decision:
    """The decision once no mandate of the actor's own permits now (or the question is about another
    moment): a legal representation that permits now, else the explanation from history – the
    actor's own mandates, then (``by_organisations(at)``, if given) organisations' mandates, then
    legal representation."""
    if at is None:
        representation = _representation_permit(history, right)
        if representation is not None:
            return _permit_by_representation(representation)
    when = at or history.now
    decision = _explain_from(history.mandates, right=right, at=when, authority_ids=authority_ids)
    if not decision.permitted and by_organisations is not None:
        decision = _either(decision, by_organisations(when))
    if not decision.permitted:
        decision = _either(
            decision,
            _explain_representation(history.relations, right=right, at=when, authority_ids=authority_ids),
        )
    return _out_of_step_denied(decision, at)


# --- The entry points ---------------------------------------------------------------------------


def authorize(
    *,
    actor: User,
    principal: User,
    right: Right,
    at: datetime | None = None,
    authority_ids: set[int] | None = None,
    organisation: Organisation | None = None,
    through_organisations: bool = True,
) -> Decision:
    """Whether ``actor`` may use ``right`` for ``principal`` at ``at`` (now by default), and why.

    Only verified people act and are acted for; an inactive account acts for nobody. With
    ``authority_ids``, only mandates that include rights of those authorities explain a denial.

    The bases, in order: the actor's own mandates, mandates to organisations the actor is a member
    of with access to them (unless ``through_organisations`` is false), legal representation. With
    ``organisation``, only that organisation's mandates count: the actor acts on its behalf.
    """
    if actor.pk == principal.pk:
        return _SELF
    if not (actor.is_active and actor.is_identity_verified and principal.is_identity_verified):
        return _NONE
    if organisation is not None:
        return _authorize_through(
            actor=actor,
            principal=principal,
            right=right,
            at=at,
            authority_ids=authority_ids,
            organisation=organisation,
        )
    # Whether the actor belongs to any organisation now, asked only once their own mandates did not
    # permit: most people belong to none, and then no organisation's mandate is asked about at all.
    member_now = False
    if at is None:
        permit = _permit_now(parties=Q(grantor=principal, attorney=actor), right=right)
        if permit is None and through_organisations:
            member_now = _is_member_now(actor)
            if member_now:
                permit = _permit_now(parties=Q(grantor=principal), member=Q(user=actor), right=right)
        if permit is not None:
            return Decision(True, Reason.POWER_OF_ATTORNEY, permit)

    def by_organisations(when: datetime) -> Decision | None:
        return _explain_organisations(
            actor=actor, principal=principal, right=right, at=when, authority_ids=authority_ids
        )

    return _decide_from_history(
        _pair_history(actor=actor.national_id, principal=principal.national_id, right=right),
        right=right,
        at=at,
        authority_ids=authority_ids,
        by_organisations=by_organisations
        if through_organisations and (at is not None or member_now)
        else None,
    )


def _out_of_step_denied(decision: Decision, at: datetime | None) -> Decision:
    """For the present moment history never permits on its own: the fast path already said no."""
    if decision.permitted and at is None:
        logger.error(
            "%s is in force but its permission row is missing",
            decision.power_of_attorney or decision.representation,
        )
        return _NONE
    return decision


def _authorize_through(
    *,
    actor: User,
    principal: User,
    right: Right,
    at: datetime | None,
    authority_ids: set[int] | None,
    organisation: Organisation,
) -> Decision:
    """``authorize`` for the actor acting on behalf of one organisation: its mandates only."""
    if at is None:
        permit = _permit_now(
            parties=Q(grantor=principal, organisation=organisation), member=Q(user=actor), right=right
        )
        if permit is not None:
            return Decision(True, Reason.POWER_OF_ATTORNEY, permit)
    decision = _explain_organisations(
        actor=actor,
        principal=principal,
        right=right,
        at=at or timezone.now(),
        authority_ids=authority_ids,
        organisation=organisation,
    )
    return _out_of_step_denied(decision or _NONE, at)


def can_act_for(actor: User, principal: User, right: Right, *, at: datetime | None = None) -> bool:
    """``authorize`` as a yes or no."""
    if not actor.is_authenticated:
        return False
    return authorize(actor=actor, principal=principal, right=right, at=at).permitted


def authorize_by_cpr(
    *,
    actor_national_id: str,
    principal_national_id: str,
    right: Right,
    at: datetime | None = None,
    organisation_cvr: str | None = None,
) -> Decision:
    """An authority's question "may A act for B with right R?" by CPR numbers, explained only from
    mandates that include that authority's rights. A CPR number nobody has verified is answered like
    "no power of attorney", so the answer does not tell whether a person uses the portal.

    With ``organisation_cvr`` the question is "may A act for B on behalf of organisation C": only
    that organisation's mandates count, used by A as its member. Without it, only A's own mandates
    and legal representation count: an organisation's mandate is not A's own.

    Asked about now, a permit takes one statement (the fast path) and anything else one more (the
    pair's history, explained in ``_decide_from_history``).
    """
    if actor_national_id == principal_national_id:
        return _SELF
    if organisation_cvr is not None:
        return _authorize_by_cpr_through(
            actor_national_id=actor_national_id,
            principal_national_id=principal_national_id,
            right=right,
            at=at,
            organisation_cvr=organisation_cvr,
        )
    if at is None:
        permit = _permit_now(parties=_parties_by_cpr(actor_national_id, principal_national_id), right=right)
        if permit is not None:
            return Decision(True, Reason.POWER_OF_ATTORNEY, permit)
    return _decide_from_history(
        _pair_history(actor=actor_national_id, principal=principal_national_id, right=right),
        right=right,
        at=at,
        authority_ids={right.service.authority_id},
    )


def _parties_by_cpr(actor_national_id: str, principal_national_id: str) -> Q:
    return Q(grantor__national_id=principal_national_id, attorney__national_id=actor_national_id)


class Question(NamedTuple):
    """One question of ``authorize_many_by_cpr``."""

    actor_national_id: str
    principal_national_id: str
    right: Right
    at: datetime | None = None


def authorize_many_by_cpr(questions: Sequence[Question]) -> list[Decision]:
    """``authorize_by_cpr`` (without an organisation) for many questions, in order, in at most two
    statements: the permits now of all of them together (the fast path), then the history of those
    it did not permit, together."""
    decisions: list[Decision | None] = [
        _SELF if q.actor_national_id == q.principal_national_id else None for q in questions
    ]
    now_asked = [n for n, q in enumerate(questions) if decisions[n] is None and q.at is None]
    for n, permit in zip(now_asked, _permits_now_by_cpr([questions[n] for n in now_asked]), strict=True):
        if permit is not None:
            decisions[n] = Decision(True, Reason.POWER_OF_ATTORNEY, permit)
    unanswered = [n for n, decision in enumerate(decisions) if decision is None]
    histories = _pair_histories(
        [
            (questions[n].actor_national_id, questions[n].principal_national_id, questions[n].right)
            for n in unanswered
        ]
    )
    for n, history in zip(unanswered, histories, strict=True):
        decisions[n] = _decide_from_history(
            history,
            right=questions[n].right,
            at=questions[n].at,
            authority_ids={questions[n].right.service.authority_id},
        )
    return decisions


def _permits_now_by_cpr(questions: list[Question]) -> list[PowerOfAttorney | None]:
    """``_permit_now`` by CPR numbers for many questions, in one statement."""
    if not questions:
        return []
    values = [
        _party_values(_parties_by_cpr(q.actor_national_id, q.principal_national_id), None) for q in questions
    ]
    statement = _statement_for(_parties_by_cpr("", ""), None)
    rows = statement.rows_for_many(
        {
            **{name: [v[name] for v in values] for name in values[0]},
            "right": [q.right.pk for q in questions],
            "permission": [q.right.permission_id for q in questions],
        },
        now=timezone.now(),
    )
    permits: list[PowerOfAttorney | None] = [None] * len(questions)
    for index, *row in rows:
        if permits[index] is None:
            permits[index] = _mandate_from_permit(row)
    return permits


def _verified_people(*national_ids: str) -> dict[str, User]:
    return {
        person.national_id: person
        for person in User.objects.filter(national_id__in=national_ids, identity_verified_at__isnull=False)
    }


def _authorize_by_cpr_through(
    *,
    actor_national_id: str,
    principal_national_id: str,
    right: Right,
    at: datetime | None,
    organisation_cvr: str,
) -> Decision:
    if at is None:
        permit = _permit_now(
            parties=Q(grantor__national_id=principal_national_id, organisation__cvr=organisation_cvr),
            member=Q(user__national_id=actor_national_id),
            right=right,
        )
        if permit is not None:
            return Decision(True, Reason.POWER_OF_ATTORNEY, permit)
    people = _verified_people(actor_national_id, principal_national_id)
    actor, principal = people.get(actor_national_id), people.get(principal_national_id)
    organisation = Organisation.objects.filter(cvr=organisation_cvr).first()
    if actor is None or principal is None or organisation is None:
        return _NONE
    return authorize(
        actor=actor,
        principal=principal,
        right=right,
        at=at,
        authority_ids={right.service.authority_id},
        organisation=organisation,
    )


def organisation_mandates_usable_by(actor: User, at: datetime | None = None) -> Q:
    """Organisations' mandates the actor has access to as a member at ``at`` (now by default):
    those given to them one by one, and all of an organisation's where they have access to all."""
    access = access_in_force(at).filter(membership__user=actor)
    return Q(
        organisation_id__in=access.filter(power_of_attorney__isnull=True).values(
            "membership__organisation_id"
        )
    ) | Q(pk__in=access.filter(power_of_attorney__isnull=False).values("power_of_attorney_id"))


def mandates_in_force(*, attorney: User, grantor: User | None = None) -> QuerySet[PowerOfAttorney]:
    """Mandates the attorney can use right now (optionally from one grantor), grantor and rights
    loaded: their own, and organisations' they have access to as a member."""
    if not (attorney.is_identity_verified and attorney.is_active):
        return PowerOfAttorney.objects.none()
    mandates = PowerOfAttorney.objects.in_force().filter(
        Q(attorney=attorney) | organisation_mandates_usable_by(attorney)
    )
    if grantor is not None:
        mandates = mandates.filter(grantor=grantor)
    return (
        mandates.select_related("grantor", "organisation")
        .prefetch_related(Prefetch("rights", queryset=Right.objects.select_related("service__authority")))
        .order_by("grantor__name")
    )


def representations_in_force(
    *, representative: User, represented: User | None = None
) -> QuerySet[Representation]:
    """Legal representations the person can use right now (optionally for one person)."""
    if not (representative.is_active and representative.is_identity_verified):
        return Representation.objects.none()
    relations = Representation.objects.in_force().filter(
        representative_national_id=representative.national_id
    )
    if represented is not None:
        relations = relations.filter(represented_national_id=represented.national_id or "")
    return relations.order_by("kind", "-valid_from")


def _rights_of(relations: Iterable[Representation]) -> list[Right]:
    """The catalogue's rights the relations cover (``representation.projection`` writes their rows)."""
    rights: dict[int, Right] = {}
    for relation in relations:
        rights.update((r.pk, r) for r in rights_covered(relation).select_related("service__authority"))
    return list(rights.values())


@dataclass
class Principal:
    """Someone a person may act for now, with which rights and on which bases."""

    person: User
    rights: list[Right]
    bases: list[str]
    #: The organisations through whose mandates the actor acts for the person (none for their own).
    organisations: list[Organisation] = field(default_factory=list)


def principals_in_force(*, actor: User, principal_id: int | None = None) -> list[Principal]:
    """Everyone the actor may act for right now (or just ``principal_id``), by mandate or by law,
    sorted by name; the rights of all bases together."""
    found: dict[int, dict] = {}
    mandates = mandates_in_force(attorney=actor)
    if principal_id is not None:
        mandates = mandates.filter(grantor_id=principal_id)
    for mandate in mandates:
        entry = found.setdefault(
            mandate.grantor_id, {"person": mandate.grantor, "rights": {}, "bases": [], "organisations": []}
        )
        entry["rights"].update((right.pk, right) for right in mandate.rights.all())
        if Basis.POWER_OF_ATTORNEY not in entry["bases"]:
            entry["bases"].append(Basis.POWER_OF_ATTORNEY)
        if mandate.organisation is not None and mandate.organisation not in entry["organisations"]:
            entry["organisations"].append(mandate.organisation)
    relations = list(representations_in_force(representative=actor))
    if relations:
        people = User.objects.filter(
            national_id__in={r.represented_national_id for r in relations}, identity_verified_at__isnull=False
        )
        if principal_id is not None:
            people = people.filter(pk=principal_id)
        by_cpr = {person.national_id: person for person in people}
        covered: dict[tuple[str, str], list[Right]] = {}  # the same kind and scope cover the same rights
        for relation in relations:
            person = by_cpr.get(relation.represented_national_id)
            if person is None:
                continue
            entry = found.setdefault(
                person.pk, {"person": person, "rights": {}, "bases": [], "organisations": []}
            )
            rights = covered.setdefault((relation.kind, relation.scope), _rights_of([relation]))
            entry["rights"].update((right.pk, right) for right in rights)
            if relation.kind not in entry["bases"]:
                entry["bases"].append(relation.kind)
    return sorted(
        (
            Principal(
                e["person"],
                sorted(e["rights"].values(), key=lambda r: r.code),
                e["bases"],
                e["organisations"],
            )
            for e in found.values()
        ),
        key=lambda p: p.person.name,
    )


def rights_in_force(*, actor: User, principal: User) -> list[Right]:
    """Rights the actor holds for the principal right now, from all mandates and legal
    representations in force."""
    rights = {
        right.pk: right
        for mandate in mandates_in_force(attorney=actor, grantor=principal)
        for right in mandate.rights.all()
    }
    if principal.is_identity_verified:
        relations = list(representations_in_force(representative=actor, represented=principal))
        rights.update((right.pk, right) for right in _rights_of(relations))
    return sorted(rights.values(), key=lambda r: r.code)


def permitted_files(*, actor: User, principal: User, rights: Iterable[Right]) -> QuerySet[CitizenFile]:
    """The principal's files at which the actor holds one of ``rights`` by a guardian row in period.

    Callers pass rights that ``rights_in_force`` gave, so mandate and guardian row must both agree.
    """
    rights = list(rights)
    if not rights:
        return CitizenFile.objects.none()
    candidates = CitizenFile.objects.filter(
        citizen=principal, authority_id__in={right.service.authority_id for right in rights}
    )
    return get_objects_for_user(
        actor,
        [f"authorities.{right.permission_codename}" for right in rights],
        klass=candidates,
        any_perm=True,
        accept_global_perms=False,
    )


# --- Who may give a power of attorney in a person's name ----------------------------------------


def grant_refusal(*, grantor: User, rights: Iterable[Right], guardian: User | None = None) -> str | None:
    """Why a power of attorney in ``grantor``'s name with ``rights`` may not be given, or None.

    A minor cannot give one at all: their parents act for them by custody. A ward under a
    guardianship of financial matters cannot give one with financial rights: the guardian decides
    those. A ``guardian`` giving one on the ward's behalf may include only rights their
    guardianship covers.
    """
    rights = list(rights)
    if grantor.national_id and is_minor(grantor.national_id):
        return str(
            _(
                "A person under 18 cannot give a power of attorney. "
                "Their parents with custody act for them until they turn 18."
            )
        )
    if guardian is not None:
        relations = list(
            representations_in_force(representative=guardian, represented=grantor).filter(
                kind=Kind.GUARDIANSHIP
            )
        )
        if not relations:
            return str(
                _(
                    "Only the person themselves, or their guardian, can give a power of attorney in their name."
                )
            )
        outside = [right for right in rights if not any(relation.covers(right) for relation in relations)]
        if outside:
            return str(
                _(
                    "As guardian you can give a power of attorney on the ward's behalf only within the "
                    "guardianship's scope. Outside it: %(rights)s."
                )
                % {"rights": ", ".join(right.name for right in outside)}
            )
        return None
    financial = [right for right in rights if right.matters == Matters.FINANCIAL]
    if (
        financial
        and grantor.national_id
        and Representation.objects.in_force()
        .filter(
            kind=Kind.GUARDIANSHIP,
            represented_national_id=grantor.national_id,
            scope__in=scopes_covering(Matters.FINANCIAL),
        )
        .exists()
    ):
        return str(
            _(
                "You are under guardianship for your financial matters, so you cannot give a power of "
                "attorney with financial rights: your guardian decides those. Leave out: %(rights)s."
            )
            % {"rights": ", ".join(right.name for right in financial)}
        )
    return None


# --- The guardian projection --------------------------------------------------------------------


def grant_object_permissions(mandate: PowerOfAttorney, *, users: Iterable[User] | None = None) -> None:
    """One guardian row per right on the grantor's file at the right's authority, with the period:
    for the attorney, or for each member with access to an organisation's mandate (or ``users``)."""
    if users is None:
        users = members_who_may_use(mandate) if mandate.organisation_id else [mandate.attorney]
    _write_guardian_rows([mandate], users=list(users))


def _write_guardian_rows(mandates: list[PowerOfAttorney], *, users: list[User]) -> None:
    """``grant_object_permissions`` for each of the mandates and the same users, in a fixed number
    of queries however many mandates: giving a member access to all of a large organisation's
    powers of attorney is one request."""
    from authorities.catalogue.services import citizen_files_for

    if not users or not mandates:
        return
    granted = defaultdict(list)  # mandate id -> (authority id, permission id) of each right
    for mandate_id, authority_id, permission_id in PowerOfAttorney.rights.through.objects.filter(
        powerofattorney_id__in=[mandate.pk for mandate in mandates]
    ).values_list("powerofattorney_id", "right__service__authority_id", "right__permission_id"):
        granted[mandate_id].append((authority_id, permission_id))
    files = citizen_files_for(
        {
            (mandate.grantor_id, authority_id)
            for mandate in mandates
            for authority_id, _permission in granted[mandate.pk]
        }
    )
    CitizenFileUserObjectPermission.all_rows.bulk_create(
        CitizenFileUserObjectPermission(
            user=user,
            permission_id=permission_id,
            content_object=files[mandate.grantor_id, authority_id],
            power_of_attorney=mandate,
            valid_from=mandate.valid_from,
            valid_until=mandate.valid_until,
        )
        for mandate in mandates
        for authority_id, permission_id in granted[mandate.pk]
        for user in users
    )


def project_member_access(membership: Membership) -> None:
    """Rewrite a member's guardian rows on their organisation's mandates after their access or
    membership changed: rows for exactly the mandates in force they may use now, none once they left."""
    if membership.user_id is None:
        return
    CitizenFileUserObjectPermission.all_rows.filter(
        user_id=membership.user_id, power_of_attorney__organisation_id=membership.organisation_id
    ).delete()
    usable = PowerOfAttorney.objects.filter(
        organisation_id=membership.organisation_id, status=Status.ACTIVE, valid_until__gt=timezone.now()
    ).filter(organisation_mandates_usable_by(membership.user))
    _write_guardian_rows(list(usable), users=[membership.user])


def remove_object_permissions(mandates: Iterable[PowerOfAttorney] | PowerOfAttorney) -> None:
    if isinstance(mandates, PowerOfAttorney):
        mandates = [mandates]
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney__in=list(mandates)).delete()


# --- Attorneys appointed jointly ----------------------------------------------------------------

from .models import JointAppointment  # noqa: E402 – kept beside the questions that use it


def joint_appointment_for(*, actor: User, principal: User, right: Right) -> JointAppointment | None:
    """The appointment under which the actor must act together with another attorney when using
    ``right`` for the principal now, or None when they may act alone.

    Only when *every* mandate in force that gives the actor this right belongs to a jointly
    appointment does the actor need a co-attorney: a mandate of their own, or one given severally,
    lets them act alone. Asked after ``authorize`` has permitted.
    """
    if actor.pk == principal.pk:
        return None
    mandates = list(
        PowerOfAttorney.objects.in_force()
        .filter(grantor=principal, attorney=actor, rights=right)
        .select_related("joint_appointment")
        .order_by("-valid_until")
    )
    if not mandates or any(
        mandate.joint_appointment is None or not mandate.joint_appointment.is_joint for mandate in mandates
    ):
        return None
    return mandates[0].joint_appointment


def acts_in_appointment(*, actor: User, appointment: JointAppointment, right: Right) -> bool:
    """Whether the actor is one of the appointment's attorneys and may use ``right`` for its grantor
    now through their mandate in it."""
    if not actor.is_authenticated or actor.pk == appointment.grantor_id:
        return False
    holds = (
        PowerOfAttorney.objects.in_force()
        .filter(joint_appointment=appointment, attorney=actor, rights=right)
        .exists()
    )
    return holds and can_act_for(actor, appointment.grantor, right)


def co_attorneys(*, appointment: JointAppointment, right: Right, besides: User) -> list[User]:
    """The appointment's other attorneys who hold ``right`` for its grantor now."""
    return list(
        User.objects.filter(
            pk__in=PowerOfAttorney.objects.in_force()
            .filter(joint_appointment=appointment, rights=right)
            .exclude(attorney=besides)
            .values("attorney")
        ).order_by("name")
    )
