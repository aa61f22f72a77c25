"""Every change to a power of attorney happens here.

Each function is one transaction that locks the rows it changes, moves the status along an allowed
transition, keeps guardian's object permissions in step with the status, writes the audit event
and schedules notifications for after commit. Views, admin, API and tasks call these functions and
never change a status themselves.

Allowed transitions::

    pending -> active | declined | revoked (grantor withdraws) | expired (never accepted in time)
    active  -> revoked | resigned | expired
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.models import CitizenFileUserObjectPermission, Right
from authorities.services import get_or_create_citizen_file
from portal.audit import record_event
from portal.cpr import normalize_cpr
from portal.models import User
from portal.notifications import notify

from .models import (
    AttorneyRequest,
    Basis,
    PowerOfAttorney,
    RequesterBlock,
    RequestStatus,
    Status,
)

TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING: {Status.ACTIVE, Status.DECLINED, Status.REVOKED, Status.EXPIRED},
    Status.ACTIVE: {Status.REVOKED, Status.RESIGNED, Status.EXPIRED},
}


class TransitionNotAllowed(ValidationError):
    pass


def names_match(given: str, actual: str) -> bool:
    """People type names with varying case and spacing; the words must still be the same."""
    return given.casefold().split() == actual.casefold().split()


def max_valid_until(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    try:
        return now.replace(year=now.year + settings.POWER_OF_ATTORNEY_MAX_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year + settings.POWER_OF_ATTORNEY_MAX_YEARS, day=28)


def _validate_period(valid_from: datetime.datetime, valid_until: datetime.datetime) -> None:
    now = timezone.now()
    errors = {}
    if valid_until <= valid_from:
        errors["valid_until"] = _("The end must be after the start.")
    elif valid_until <= now:
        errors["valid_until"] = _("The end must be in the future.")
    elif valid_until > max_valid_until(now):
        errors["valid_until"] = _("A power of attorney can last at most %(years)d years.") % {
            "years": settings.POWER_OF_ATTORNEY_MAX_YEARS
        }
    if errors:
        raise ValidationError(errors)


def _validate_rights(rights: Iterable[Right]) -> list[Right]:
    rights = list(rights)
    if not rights:
        raise ValidationError({"rights": _("Choose at least one right.")})
    if any(not isinstance(right, Right) or right.pk is None for right in rights):
        raise ValidationError({"rights": _("One of the chosen rights does not exist.")})
    return rights


def _lock(mandate: PowerOfAttorney) -> PowerOfAttorney:
    return (
        PowerOfAttorney.objects.select_for_update(of=("self",))
        .select_related("grantor", "attorney")
        .get(pk=mandate.pk)
    )


def _move(mandate: PowerOfAttorney, new_status: str) -> None:
    if new_status not in TRANSITIONS.get(mandate.status, set()):
        raise TransitionNotAllowed(
            _("This power of attorney is %(status)s and cannot be changed that way.")
            % {"status": mandate.get_status_display().lower()},
            code="transition",
        )
    mandate.status = new_status


def _grant_permissions(mandate: PowerOfAttorney) -> None:
    rows = []
    for right in mandate.rights.select_related("service__authority", "permission"):
        citizen_file = get_or_create_citizen_file(citizen=mandate.grantor, authority=right.service.authority)
        rows.append(
            CitizenFileUserObjectPermission(
                user=mandate.attorney,
                permission=right.permission,
                content_object=citizen_file,
                power_of_attorney=mandate,
                valid_from=mandate.valid_from,
                valid_until=mandate.valid_until,
            )
        )
    CitizenFileUserObjectPermission.all_rows.bulk_create(rows)


def _remove_permissions(mandates: Iterable[PowerOfAttorney] | PowerOfAttorney) -> None:
    if isinstance(mandates, PowerOfAttorney):
        mandates = [mandates]
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney__in=list(mandates)).delete()


def _audit(action: str, mandate: PowerOfAttorney, actor: User | None, **details) -> None:
    record_event(
        action=f"power_of_attorney.{action}",
        actor=actor,
        principal=actor,
        target=mandate,
        details={"grantor": mandate.grantor_id, "attorney": mandate.attorney_id, **details},
    )


def _notify_parties(mandate: PowerOfAttorney, event: str, *, to: Iterable[User] | None = None) -> None:
    recipients = list(to) if to is not None else [mandate.grantor, mandate.attorney]
    link = reverse("attorney:detail", args=[mandate.pk])
    for recipient in recipients:
        if recipient is None:
            continue
        notify(
            recipient=recipient,
            event_key=f"poa:{mandate.pk}:{event}",
            template="attorney/email/event",
            context={"mandate": mandate, "event": event, "is_grantor": recipient.pk == mandate.grantor_id},
            link=link,
        )


def _end(mandate: PowerOfAttorney, new_status: str, *, by: User | None, reason: str, at=None) -> None:
    _move(mandate, new_status)
    mandate.ended_at = at or timezone.now()
    mandate.ended_by = by
    mandate.end_reason = reason
    mandate.save(update_fields=["status", "ended_at", "ended_by", "end_reason", "updated_at"])
    _remove_permissions(mandate)


def _identical_open_mandate_exists(
    *, grantor: User, attorney: User | None, invitee_national_id: str, rights: list[Right], exclude=None
) -> bool:
    wanted = {right.pk for right in rights}
    same_person = (
        Q(attorney=attorney)
        if attorney
        else Q(attorney__isnull=True, invitee_national_id=invitee_national_id)
    )
    candidates = (
        PowerOfAttorney.objects.filter(
            same_person, grantor=grantor, status__in=[Status.PENDING, Status.ACTIVE]
        )
        .exclude(pk=getattr(exclude, "pk", None))
        .prefetch_related("rights")
    )
    return any({right.pk for right in candidate.rights.all()} == wanted for candidate in candidates)


def _activate(mandate: PowerOfAttorney, *, by: User) -> None:
    _move(mandate, Status.ACTIVE)
    mandate.activated_at = timezone.now()
    mandate.save(update_fields=["status", "activated_at", "attorney", "updated_at"])
    _grant_permissions(mandate)
    if mandate.replaces_id:
        old = _lock(mandate.replaces)
        if old.status in (Status.ACTIVE, Status.PENDING):
            _end(old, Status.REVOKED, by=by, reason=_("Replaced by a new power of attorney."))
            _audit("replaced", old, by, replaced_by=str(mandate.pk))


def _create(
    *,
    grantor: User,
    attorney: User | None,
    invitee_national_id: str,
    invitee_name: str,
    rights: list[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    created_by: User,
    basis: str,
    replaces: PowerOfAttorney | None,
) -> PowerOfAttorney:
    mandate = PowerOfAttorney.objects.create(
        grantor=grantor,
        attorney=attorney,
        invitee_national_id="" if attorney else invitee_national_id,
        invitee_name="" if attorney else invitee_name,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=created_by,
        basis=basis,
        replaces=replaces,
    )
    mandate.rights.set(rights)
    return mandate


def grant_power_of_attorney(
    *,
    grantor: User,
    attorney_national_id: str,
    attorney_name: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    created_by: User | None = None,
    basis: str = Basis.DIGITAL,
    replaces: PowerOfAttorney | None = None,
) -> PowerOfAttorney:
    """The grantor appoints an attorney, who must then accept.

    The attorney is identified by CPR number *and* name: if a person with that CPR uses the
    portal, the name must be theirs; otherwise the power of attorney waits as an invitation for
    that CPR. Nobody can appoint themselves, and an identical open power of attorney to the same
    person is refused.
    """
    try:
        cpr = normalize_cpr(attorney_national_id)
    except ValidationError as error:
        raise ValidationError({"attorney_national_id": error.messages}) from None
    name = " ".join((attorney_name or "").split())
    if not name:
        raise ValidationError({"attorney_name": _("Enter the name of the person you want to appoint.")})
    if cpr == grantor.national_id:
        raise ValidationError({"attorney_national_id": _("You cannot appoint yourself.")})
    rights = _validate_rights(rights)
    _validate_period(valid_from, valid_until)

    with transaction.atomic():
        # Serialise grants by the same grantor so two identical submissions cannot both pass.
        User.objects.select_for_update(of=("self",)).filter(pk=grantor.pk).first()
        attorney = User.objects.filter(national_id=cpr).first()
        if attorney is not None and not names_match(name, attorney.name):
            raise ValidationError(
                {"attorney_name": _("The CPR number and the name do not belong to the same person.")}
            )
        if _identical_open_mandate_exists(
            grantor=grantor, attorney=attorney, invitee_national_id=cpr, rights=rights, exclude=replaces
        ):
            raise ValidationError(
                _(
                    "This person already has, or has been offered, a power of attorney with exactly these rights."
                )
            )
        mandate = _create(
            grantor=grantor,
            attorney=attorney,
            invitee_national_id=cpr,
            invitee_name=name,
            rights=rights,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=created_by or grantor,
            basis=basis,
            replaces=replaces,
        )
        _audit(
            "granted",
            mandate,
            created_by or grantor,
            rights=sorted(r.code for r in rights),
            valid_from=valid_from.isoformat(),
            valid_until=valid_until.isoformat(),
            replaces=str(replaces.pk) if replaces else None,
        )
        _notify_parties(mandate, "granted")
    return mandate


def accept(*, power_of_attorney: PowerOfAttorney, attorney: User) -> PowerOfAttorney:
    """The appointed person accepts; from then on they may act within the rights and period."""
    with transaction.atomic():
        mandate = _lock(power_of_attorney)
        if not _is_addressed_to(mandate, attorney):
            raise TransitionNotAllowed(_("This power of attorney is not addressed to you."), code="not_yours")
        if mandate.valid_until <= timezone.now():
            raise TransitionNotAllowed(_("This power of attorney has already ended."), code="ended")
        mandate.attorney = attorney
        _activate(mandate, by=attorney)
        _audit("accepted", mandate, attorney)
        _notify_parties(mandate, "accepted")
    return mandate


def decline(*, power_of_attorney: PowerOfAttorney, attorney: User, reason: str = "") -> PowerOfAttorney:
    """The appointed person says no; nothing was ever in force."""
    with transaction.atomic():
        mandate = _lock(power_of_attorney)
        if not _is_addressed_to(mandate, attorney):
            raise TransitionNotAllowed(_("This power of attorney is not addressed to you."), code="not_yours")
        if mandate.attorney_id is None:
            mandate.attorney = attorney
            mandate.save(update_fields=["attorney"])
        _end(mandate, Status.DECLINED, by=attorney, reason=reason)
        _audit("declined", mandate, attorney, reason=reason)
        _notify_parties(mandate, "declined")
    return mandate


def revoke(*, power_of_attorney: PowerOfAttorney, by: User, reason: str = "") -> PowerOfAttorney:
    """The grantor ends the power of attorney; it stops working at the attorney's next request."""
    with transaction.atomic():
        mandate = _lock(power_of_attorney)
        if by.pk != mandate.grantor_id:
            raise TransitionNotAllowed(_("Only the person who gave the power of attorney can revoke it."))
        _end(mandate, Status.REVOKED, by=by, reason=reason)
        _audit("revoked", mandate, by, reason=reason)
        _notify_parties(mandate, "revoked")
    return mandate


def resign(*, power_of_attorney: PowerOfAttorney, attorney: User, reason: str = "") -> PowerOfAttorney:
    """The attorney steps down; the grantor is told."""
    with transaction.atomic():
        mandate = _lock(power_of_attorney)
        if attorney.pk != mandate.attorney_id:
            raise TransitionNotAllowed(_("Only the attorney can resign from a power of attorney."))
        _end(mandate, Status.RESIGNED, by=attorney, reason=reason)
        _audit("resigned", mandate, attorney, reason=reason)
        _notify_parties(mandate, "resigned")
    return mandate


def expire_due(*, now: datetime.datetime | None = None) -> int:
    """End every pending or active power of attorney whose period is over, in one set-based pass.

    This tidies up and notifies; access already stopped at valid_until because every check reads
    the period.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            PowerOfAttorney.objects.select_for_update(of=("self",))
            .filter(status__in=[Status.PENDING, Status.ACTIVE], valid_until__lte=now)
            .select_related("grantor", "attorney")
        )
        if not due:
            return 0
        PowerOfAttorney.objects.filter(pk__in=[m.pk for m in due]).update(
            status=Status.EXPIRED, ended_at=now, updated_at=now
        )
        _remove_permissions(due)
        for mandate in due:
            mandate.status, mandate.ended_at = Status.EXPIRED, now
            _audit("expired", mandate, None)
            _notify_parties(mandate, "expired")
    return len(due)


def send_expiry_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind both parties once, some days before an active power of attorney runs out."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=settings.POWER_OF_ATTORNEY_REMINDER_DAYS)
    with transaction.atomic():
        due = list(
            PowerOfAttorney.objects.select_for_update(of=("self",))
            .filter(
                status=Status.ACTIVE,
                reminder_sent_at__isnull=True,
                valid_until__gt=now,
                valid_until__lte=horizon,
            )
            .select_related("grantor", "attorney")
        )
        PowerOfAttorney.objects.filter(pk__in=[m.pk for m in due]).update(reminder_sent_at=now)
        for mandate in due:
            _notify_parties(mandate, "reminder")
    return len(due)


def renew(*, power_of_attorney: PowerOfAttorney, by: User, valid_until: datetime.datetime) -> PowerOfAttorney:
    """Same attorney and rights, a new end date, in one step.

    The attorney already accepted exactly these rights, so the renewal is in force at once and
    replaces the old power of attorney; the attorney is told and can resign as always.
    """
    with transaction.atomic():
        old = _lock(power_of_attorney)
        if by.pk != old.grantor_id:
            raise TransitionNotAllowed(_("Only the person who gave the power of attorney can renew it."))
        if old.status != Status.ACTIVE:
            raise TransitionNotAllowed(
                _("Only a power of attorney in force can be renewed."), code="transition"
            )
        now = timezone.now()
        _validate_period(now, valid_until)
        if valid_until <= old.valid_until:
            raise ValidationError({"valid_until": _("The new end date must be later than the current one.")})
        new = _create(
            grantor=old.grantor,
            attorney=old.attorney,
            invitee_national_id="",
            invitee_name="",
            rights=list(old.rights.all()),
            valid_from=max(now, old.valid_from),
            valid_until=valid_until,
            created_by=by,
            basis=old.basis,
            replaces=old,
        )
        _activate(new, by=by)
        _audit("renewed", new, by, replaces=str(old.pk), valid_until=valid_until.isoformat())
        _notify_parties(new, "renewed")
    return new


def change(
    *,
    power_of_attorney: PowerOfAttorney,
    by: User,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
) -> PowerOfAttorney:
    """Changing rights or period makes a new power of attorney that replaces the old one once accepted."""
    old = power_of_attorney
    if by.pk != old.grantor_id:
        raise TransitionNotAllowed(_("Only the person who gave the power of attorney can change it."))
    if old.status not in (Status.ACTIVE, Status.PENDING):
        raise TransitionNotAllowed(_("An ended power of attorney cannot be changed."), code="transition")
    return grant_power_of_attorney(
        grantor=old.grantor,
        attorney_national_id=old.attorney.national_id if old.attorney_id else old.invitee_national_id,
        attorney_name=old.attorney_name,
        rights=rights,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=by,
        replaces=old,
    )


def _is_addressed_to(mandate: PowerOfAttorney, user: User) -> bool:
    if mandate.attorney_id is not None:
        return mandate.attorney_id == user.pk
    return bool(user.national_id) and mandate.invitee_national_id == user.national_id


# --- Requests from a relative ---------------------------------------------------------------


def request_power_of_attorney(
    *,
    requester: User,
    grantor_national_id: str,
    grantor_name: str,
    rights: Iterable[Right],
    valid_until: datetime.datetime,
    message: str = "",
) -> AttorneyRequest:
    """A relative asks a citizen for a power of attorney.

    Guarded against abuse: a cap on open requests per requester, no new request to the same
    citizen for some days after a rejection, and none at all to a citizen who blocked the requester.
    """
    try:
        cpr = normalize_cpr(grantor_national_id)
    except ValidationError as error:
        raise ValidationError({"grantor_national_id": error.messages}) from None
    if cpr == requester.national_id:
        raise ValidationError({"grantor_national_id": _("You cannot ask yourself for a power of attorney.")})
    rights = _validate_rights(rights)
    _validate_period(timezone.now(), valid_until)
    with transaction.atomic():
        User.objects.select_for_update(of=("self",)).filter(pk=requester.pk).first()
        grantor = User.objects.filter(national_id=cpr).first()
        if grantor is None or not names_match(grantor_name, grantor.name):
            raise ValidationError(
                _("We could not find a person using the portal with this CPR number and name.")
            )
        open_count = AttorneyRequest.objects.filter(requester=requester, status=RequestStatus.PENDING).count()
        if open_count >= settings.ATTORNEY_REQUEST_MAX_OPEN:
            raise ValidationError(
                _("You have %(count)d unanswered requests. Wait for an answer before asking again.")
                % {"count": open_count}
            )
        blocked = RequesterBlock.objects.filter(citizen=grantor, blocked=requester).exists()
        cooldown_start = timezone.now() - datetime.timedelta(days=settings.ATTORNEY_REQUEST_COOLDOWN_DAYS)
        recently_rejected = AttorneyRequest.objects.filter(
            requester=requester,
            grantor=grantor,
            status=RequestStatus.REJECTED,
            decided_at__gte=cooldown_start,
        ).exists()
        if blocked or recently_rejected:
            raise ValidationError(
                _("You cannot ask this person for a power of attorney right now. Talk to them directly.")
            )
        if AttorneyRequest.objects.filter(
            requester=requester, grantor=grantor, status=RequestStatus.PENDING
        ).exists():
            raise ValidationError(_("You have already asked this person. Wait for their answer."))
        attorney_request = AttorneyRequest.objects.create(
            requester=requester, grantor=grantor, message=message.strip(), valid_until=valid_until
        )
        attorney_request.rights.set(rights)
        record_event(
            action="attorney_request.created",
            actor=requester,
            principal=requester,
            target=attorney_request,
            details={"grantor": grantor.pk, "rights": sorted(r.code for r in rights)},
        )
        notify(
            recipient=grantor,
            event_key=f"request:{attorney_request.pk}:created",
            template="attorney/email/request",
            context={"attorney_request": attorney_request, "event": "created"},
            link=reverse("attorney:request_answer", args=[attorney_request.pk]),
        )
    return attorney_request


def _lock_open_request(attorney_request: AttorneyRequest, grantor: User) -> AttorneyRequest:
    locked = (
        AttorneyRequest.objects.select_for_update(of=("self",))
        .select_related("requester")
        .get(pk=attorney_request.pk)
    )
    if locked.grantor_id != grantor.pk:
        raise TransitionNotAllowed(_("This request is not addressed to you."))
    if locked.status != RequestStatus.PENDING:
        raise TransitionNotAllowed(_("This request has already been answered."), code="transition")
    return locked


def approve_request(
    *,
    attorney_request: AttorneyRequest,
    grantor: User,
    rights: Iterable[Right],
    valid_until: datetime.datetime,
) -> PowerOfAttorney:
    """The citizen says yes, possibly to fewer rights or a shorter period than asked for.

    The requester asked for it, so the power of attorney is in force at once.
    """
    rights = _validate_rights(rights)
    with transaction.atomic():
        locked = _lock_open_request(attorney_request, grantor)
        asked = {right.pk for right in locked.rights.all()}
        if not {right.pk for right in rights} <= asked:
            raise ValidationError({"rights": _("You can only give rights that were asked for.")})
        if valid_until > locked.valid_until:
            raise ValidationError({"valid_until": _("The end date cannot be later than the one asked for.")})
        mandate = grant_power_of_attorney(
            grantor=grantor,
            attorney_national_id=locked.requester.national_id,
            attorney_name=locked.requester.name,
            rights=rights,
            valid_from=timezone.now(),
            valid_until=valid_until,
            created_by=grantor,
        )
        mandate = _lock(mandate)
        _activate(mandate, by=grantor)
        _audit("accepted", mandate, grantor, via_request=str(locked.pk))
        locked.status = RequestStatus.APPROVED
        locked.decided_at = timezone.now()
        locked.power_of_attorney = mandate
        locked.save(update_fields=["status", "decided_at", "power_of_attorney"])
        record_event(action="attorney_request.approved", actor=grantor, principal=grantor, target=locked)
        _notify_parties(mandate, "accepted", to=[locked.requester])
    return mandate


def reject_request(
    *, attorney_request: AttorneyRequest, grantor: User, block: bool = False
) -> AttorneyRequest:
    """The citizen says no, and may block further requests from the same person."""
    with transaction.atomic():
        locked = _lock_open_request(attorney_request, grantor)
        locked.status = RequestStatus.REJECTED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        if block:
            RequesterBlock.objects.get_or_create(citizen=grantor, blocked=locked.requester)
        record_event(
            action="attorney_request.rejected",
            actor=grantor,
            principal=grantor,
            target=locked,
            details={"block": block},
        )
        notify(
            recipient=locked.requester,
            event_key=f"request:{locked.pk}:rejected",
            template="attorney/email/request",
            context={"attorney_request": locked, "event": "rejected"},
            link=reverse("attorney:overview"),
        )
    return locked
