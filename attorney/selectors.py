"""Read-only questions about powers of attorney; the one place that decides who may act for whom."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorities.models import CitizenFile, Right
from portal.models import User

from .models import AttorneyRequest, PowerOfAttorney, RequestStatus, Status

logger = logging.getLogger(__name__)


class Reason:
    SELF = "self"
    POWER_OF_ATTORNEY = "power_of_attorney"
    NO_POWER_OF_ATTORNEY = "no_power_of_attorney"
    RIGHT_NOT_GRANTED = "right_not_granted"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


REASON_TEXT = {
    Reason.SELF: _("You are acting for yourself."),
    Reason.POWER_OF_ATTORNEY: _("The power of attorney covers this."),
    Reason.NO_POWER_OF_ATTORNEY: _("You do not have a power of attorney from this person."),
    Reason.RIGHT_NOT_GRANTED: _("Your power of attorney does not cover this."),
    Reason.NOT_YET_VALID: _("Your power of attorney is not valid yet."),
    Reason.EXPIRED: _("Your power of attorney has expired."),
    Reason.REVOKED: _("Your power of attorney has been ended."),
}


def _rights_with_authority() -> Prefetch:
    """A mandate's rights with their service and authority, as every page that lists them needs."""
    return Prefetch("rights", queryset=Right.objects.select_related("service__authority"))


@dataclass(frozen=True)
class Decision:
    permitted: bool
    reason: str
    power_of_attorney: PowerOfAttorney | None = None
    rights: frozenset[str] = field(default_factory=frozenset)

    @property
    def explanation(self) -> str:
        return str(REASON_TEXT[self.reason])

    @property
    def valid_until(self) -> datetime | None:
        return self.power_of_attorney.valid_until if self.power_of_attorney else None


def _was_effective(mandate: PowerOfAttorney, at: datetime) -> bool:
    return (
        mandate.activated_at is not None
        and mandate.activated_at <= at
        and mandate.valid_from <= at < mandate.valid_until
        and (mandate.ended_at is None or mandate.ended_at > at)
    )


def decide(
    *,
    actor: User,
    principal: User,
    right: Right,
    at: datetime | None = None,
    authority_ids: set[int] | None = None,
) -> Decision:
    """Whether ``actor`` may use ``right`` for ``principal`` at ``at`` (now by default), and why.

    Computed only from the mandates themselves (their status history and period), so it is
    correct the second a mandate ends, and for past moments. With ``authority_ids`` only
    mandates that include rights of those authorities are considered, so the answer reveals
    nothing about other authorities.
    """
    if actor.pk == principal.pk:
        return Decision(True, Reason.SELF)
    if not (actor.is_identity_verified and principal.is_identity_verified):
        # A mandate between accounts whose identity is only claimed binds nobody.
        return Decision(False, Reason.NO_POWER_OF_ATTORNEY)
    at = at or timezone.now()
    mandates = list(
        PowerOfAttorney.objects.filter(grantor=principal, attorney=actor, activated_at__isnull=False)
        .prefetch_related(Prefetch("rights", queryset=Right.objects.select_related("service")))
        .order_by("-valid_until")
    )
    if authority_ids is not None:
        mandates = [
            m for m in mandates if any(r.service.authority_id in authority_ids for r in m.rights.all())
        ]
    if not mandates:
        return Decision(False, Reason.NO_POWER_OF_ATTORNEY)
    covering = [m for m in mandates if any(r.pk == right.pk for r in m.rights.all())]
    if not covering:
        return Decision(False, Reason.RIGHT_NOT_GRANTED)
    for mandate in covering:
        if _was_effective(mandate, at):
            return Decision(
                True, Reason.POWER_OF_ATTORNEY, mandate, frozenset(r.code for r in mandate.rights.all())
            )
    # Explain by the mandate that was (or will be) closest to covering the moment asked about.
    started = [m for m in covering if m.activated_at <= at and m.valid_from <= at]
    if not started:
        return Decision(False, Reason.NOT_YET_VALID, min(covering, key=lambda m: m.valid_from))
    latest = max(started, key=lambda m: min(m.ended_at or m.valid_until, m.valid_until))
    if latest.ended_at is not None and latest.ended_at <= at and latest.ended_at < latest.valid_until:
        reason = Reason.EXPIRED if latest.status == Status.EXPIRED else Reason.REVOKED
        return Decision(False, reason, latest)
    return Decision(False, Reason.EXPIRED, latest)


def can_act_for(actor: User, principal: User, right: Right, *, at: datetime | None = None) -> bool:
    """The one authorization entry point for acting on someone's behalf.

    For the present moment both the mandate and the guardian object permission on the
    principal's file must agree; for a past moment the mandates' history answers.
    """
    if not actor.is_authenticated or not actor.is_active:
        return False
    decision = decide(actor=actor, principal=principal, right=right, at=at)
    if not decision.permitted or decision.reason == Reason.SELF or at is not None:
        return decision.permitted
    return _object_permission_agrees(actor, principal, right, decision)


def _object_permission_agrees(actor: User, principal: User, right: Right, decision: Decision) -> bool:
    citizen_file = CitizenFile.objects.filter(citizen=principal, authority_id=right.authority_id).first()
    if citizen_file is None or not actor.has_perm(f"authorities.{right.permission_codename}", citizen_file):
        logger.error("Mandate %s permits but no object permission exists", decision.power_of_attorney.pk)
        return False
    return True


def decide_for_authority(
    *, actor_national_id: str, principal_national_id: str, right: Right, at: datetime | None = None
) -> Decision:
    """An authority's question "may A act for B with right R?", answered only from mandates that
    include that authority's rights. Unknown CPR numbers are answered like "no power of attorney",
    so the answer does not tell whether a person uses the portal."""
    if actor_national_id == principal_national_id:
        return Decision(True, Reason.SELF)
    if at is None:
        permitting = _permitting_mandate_now(
            actor_national_id=actor_national_id, principal_national_id=principal_national_id, right=right
        )
        if permitting is not None:
            return Decision(True, Reason.POWER_OF_ATTORNEY, permitting)
    # No permit: work out the reason from the mandates' history (rarer, and allowed to cost more).
    people = {
        u.national_id: u
        for u in User.objects.filter(
            national_id__in=[actor_national_id, principal_national_id], identity_verified_at__isnull=False
        )
    }
    actor, principal = people.get(actor_national_id), people.get(principal_national_id)
    if actor is None or principal is None or not actor.is_active:
        return Decision(False, Reason.NO_POWER_OF_ATTORNEY)
    authority_id = right.service.authority_id
    decision = decide(actor=actor, principal=principal, right=right, at=at, authority_ids={authority_id})
    if decision.permitted and at is None and not _object_permission_agrees(actor, principal, right, decision):
        return Decision(False, Reason.NO_POWER_OF_ATTORNEY)
    return decision


def _permitting_mandate_now(
    *, actor_national_id: str, principal_national_id: str, right: Right
) -> PowerOfAttorney | None:
    """The permit path in one indexed query: an active, in-period mandate with the right *and* its
    guardian permission row on the grantor's file, in period (the same row guardian's checks read)."""
    from authorities.models import CitizenFileUserObjectPermission

    now = timezone.now()
    # The mandate's own permission row for the right (it is written for the mandate's attorney on
    # the grantor's file at the right's authority); few joins keep the query cheap to plan.
    object_permission = CitizenFileUserObjectPermission.all_rows.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        power_of_attorney=OuterRef("pk"),
        permission_id=right.permission_id,
        valid_from__lte=now,
    )
    found = (
        PowerOfAttorney.objects.filter(
            grantor__national_id=principal_national_id,
            grantor__identity_verified_at__isnull=False,
            attorney__national_id=actor_national_id,
            attorney__identity_verified_at__isnull=False,
            attorney__is_active=True,
            rights=right,
            status=Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .filter(Exists(object_permission))
        .order_by("-valid_until")
        .values_list("pk", "valid_until")
        .first()
    )
    return PowerOfAttorney(pk=found[0], valid_until=found[1]) if found else None


def effective_mandates_for_attorney(attorney: User) -> QuerySet[PowerOfAttorney]:
    """Mandates the attorney can use right now, with grantor and rights loaded (none for an
    account whose identity is not verified, and none from a grantor whose identity is not)."""
    if not attorney.is_identity_verified:
        return PowerOfAttorney.objects.none()
    now = timezone.now()
    return (
        PowerOfAttorney.objects.filter(
            attorney=attorney,
            grantor__identity_verified_at__isnull=False,
            status=Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
        .order_by("grantor__name")
    )


def effective_rights(*, actor: User, principal: User) -> list[Right]:
    """Rights the actor holds for the principal right now, from all effective mandates."""
    rights: dict[int, Right] = {}
    for mandate in effective_mandates_for_attorney(actor).filter(grantor=principal):
        for right in mandate.rights.all():
            rights[right.pk] = right
    return sorted(rights.values(), key=lambda r: r.code)


def mandates_given(grantor: User) -> QuerySet[PowerOfAttorney]:
    return (
        PowerOfAttorney.objects.filter(grantor=grantor)
        .select_related("attorney")
        .prefetch_related(_rights_with_authority())
    )


def mandates_received(attorney: User) -> QuerySet[PowerOfAttorney]:
    return (
        PowerOfAttorney.objects.filter(attorney=attorney)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def visible_mandate(*, user: User, mandate_id) -> PowerOfAttorney | None:
    """A mandate the user is a party to (grantor or attorney), or None."""
    return (
        PowerOfAttorney.objects.filter(Q(grantor=user) | Q(attorney=user), pk=mandate_id)
        .select_related("grantor", "attorney", "created_by", "ended_by", "replaces")
        .prefetch_related(_rights_with_authority())
        .first()
    )


def open_requests_to(grantor: User) -> QuerySet[AttorneyRequest]:
    return (
        AttorneyRequest.objects.filter(grantor=grantor, status=RequestStatus.PENDING)
        .select_related("requester")
        .prefetch_related(_rights_with_authority())
    )


def requests_made_by(requester: User) -> QuerySet[AttorneyRequest]:
    return (
        AttorneyRequest.objects.filter(requester=requester)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def rights_catalogue() -> list[Right]:
    return list(
        Right.objects.select_related("service__authority").order_by("service__authority__name_da", "code")
    )


def invitations_for(user: User) -> QuerySet[PowerOfAttorney]:
    """Pending powers of attorney addressed to the user, also those made out to their CPR number and
    name before they had an account. An unverified account is addressed by nothing: its CPR number
    is only a claim, so it learns nothing of what waits for that number."""
    if not user.is_identity_verified:
        return PowerOfAttorney.objects.none()
    addressed = Q(attorney=user) | Q(
        attorney__isnull=True,
        invitee_national_id=user.national_id,
        invitee_name__iexact=" ".join(user.name.split()),
    )
    return (
        PowerOfAttorney.objects.filter(addressed, status=Status.PENDING, valid_until__gt=timezone.now())
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def access_codes_of(mandate: PowerOfAttorney) -> QuerySet:
    """The mandate's access codes with who looked at them, newest first."""
    from .models import AccessCode

    return (
        AccessCode.objects.filter(power_of_attorney=mandate)
        .select_related("created_by")
        .prefetch_related("views")
    )


def mandate_summary(mandate_id) -> PowerOfAttorney | None:
    return (
        PowerOfAttorney.objects.filter(pk=mandate_id)
        .select_related("grantor", "attorney")
        .prefetch_related(_rights_with_authority())
        .first()
    )
