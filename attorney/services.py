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
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.catalogue.models import Right
from organisations.cvr import normalize_cvr
from organisations.models import Membership, Organisation, Role
from organisations.selectors import organisation_by_cvr_and_name
from portal.audit import record_event, record_events
from portal.cpr import normalize_cpr
from portal.errors import Conflict, Invalid, NotAllowed
from portal.identity import require_verified_identity
from portal.models import User
from portal.notifications import notify

from .models import (
    EMERGENCY_MAX_DAYS,
    EMERGENCY_REPEAT_DAYS,
    EMERGENCY_RIGHT,
    AccessCode,
    AccessCodeView,
    AttorneyRequest,
    Basis,
    EmergencyRequest,
    EmergencyStatus,
    JointAppointment,
    JointMode,
    OrganisationAccess,
    PowerOfAttorney,
    RequesterBlock,
    RequestStatus,
    Status,
)
from .policy import grant_object_permissions, grant_refusal, project_member_access, remove_object_permissions
from .signals import power_of_attorney_changed, powers_of_attorney_changed

TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING: {Status.ACTIVE, Status.DECLINED, Status.REVOKED, Status.EXPIRED},
    Status.ACTIVE: {Status.REVOKED, Status.RESIGNED, Status.EXPIRED},
}


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
        raise Conflict(
            _("This power of attorney is %(status)s and cannot be changed that way.")
            % {"status": mandate.get_status_display().lower()},
            code="transition",
        )
    mandate.status = new_status


def _audit_details(mandate: "PowerOfAttorney | ExpiredMandate", **details) -> dict:
    return {
        "grantor": mandate.grantor_id,
        "attorney": mandate.attorney_id,
        **({"organisation": mandate.organisation_id} if mandate.organisation_id else {}),
        **details,
    }


def _audit(action: str, mandate: PowerOfAttorney, actor: User | None, **details) -> None:
    record_event(
        action=f"power_of_attorney.{action}",
        actor=actor,
        principal=actor,
        target=mandate,
        details=_audit_details(mandate, **details),
    )


def _attorney_side(mandate: PowerOfAttorney) -> list[User]:
    """Who speaks for the attorney: the person, or an organisation's current administrators."""
    if mandate.organisation_id:
        return [
            membership.user
            for membership in Membership.objects.current()
            .filter(organisation_id=mandate.organisation_id, role=Role.ADMINISTRATOR)
            .select_related("user")
        ]
    return [mandate.attorney] if mandate.attorney_id else []


def _audit_granted(mandate: PowerOfAttorney, created_by: User, rights: list[Right]) -> None:
    """The "granted" event of a mandate just created with ``rights``, and its period."""
    _audit(
        "granted",
        mandate,
        created_by,
        rights=sorted(right.code for right in rights),
        valid_from=mandate.valid_from.isoformat(),
        valid_until=mandate.valid_until.isoformat(),
        replaces=str(mandate.replaces_id) if mandate.replaces_id else None,
        **({"joint_appointment": str(mandate.joint_appointment_id)} if mandate.joint_appointment_id else {}),
    )


def _notify_parties(mandate: PowerOfAttorney, event: str, *, to: Iterable[User] | None = None) -> None:
    recipients = list(to) if to is not None else [mandate.grantor, *_attorney_side(mandate)]
    link = reverse("attorney:detail", args=[mandate.pk])
    for recipient in recipients:
        if recipient is None:
            continue
        notify(
            recipient=recipient,
            event_key=f"poa:{mandate.pk}:{event}",
            template="attorney/email/event",
            context={"mandate": mandate},
            params={
                "event": event,
                "is_grantor": recipient.pk == mandate.grantor_id,
                "in_force": mandate.status == Status.ACTIVE,
                "g": mandate.grantor.name,
                "a": mandate.attorney_name,
            },
            link=link,
        )


def _end(
    mandate: PowerOfAttorney,
    new_status: str,
    *,
    by: User | None,
    reason: str,
    at=None,
    tell_authorities: bool = True,
) -> None:
    _move(mandate, new_status)
    mandate.ended_at = at or timezone.now()
    mandate.ended_by = by
    mandate.end_reason = reason
    mandate.save(update_fields=["status", "ended_at", "ended_by", "end_reason", "updated_at"])
    remove_object_permissions(mandate)
    # Authorities only hear about mandates that were ever in force.
    if tell_authorities and mandate.activated_at is not None:
        power_of_attorney_changed.send(sender=PowerOfAttorney, mandate=mandate, type=new_status)


def _identical_open_mandate_exists(
    *,
    grantor: User,
    attorney: User | None,
    invitee_national_id: str,
    rights: list[Right],
    exclude=None,
    organisation: Organisation | None = None,
) -> bool:
    wanted = {right.pk for right in rights}
    if organisation is not None:
        same_person = Q(organisation=organisation)
    elif attorney:
        same_person = Q(attorney=attorney)
    else:
        same_person = Q(
            attorney__isnull=True, invitee_national_id=invitee_national_id, organisation__isnull=True
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
    grant_object_permissions(mandate)
    replaced = None
    if mandate.replaces_id:
        old = _lock(mandate.replaces)
        if old.status in (Status.ACTIVE, Status.PENDING):
            # The authorities hear one "changed" event for the new mandate instead of a revocation.
            _end(
                old,
                Status.REVOKED,
                by=by,
                reason=_("Replaced by a new power of attorney."),
                tell_authorities=False,
            )
            _audit("replaced", old, by, replaced_by=str(mandate.pk))
            replaced = old
    power_of_attorney_changed.send(
        sender=PowerOfAttorney, mandate=mandate, type="changed" if replaced is not None else "activated"
    )


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
    registered_by: User | None = None,
    paper_document=None,
    joint_appointment: JointAppointment | None = None,
    organisation: Organisation | None = None,
) -> PowerOfAttorney:
    mandate = PowerOfAttorney(
        grantor=grantor,
        attorney=attorney,
        organisation=organisation,
        invitee_national_id="" if attorney or organisation else invitee_national_id,
        invitee_name="" if attorney or organisation else invitee_name,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=created_by,
        basis=basis,
        replaces=replaces,
        registered_by=registered_by,
        joint_appointment=joint_appointment,
    )
    if paper_document is not None:
        mandate.paper_document.save(f"{mandate.pk}.pdf", paper_document, save=False)
    mandate.save(force_insert=True)
    mandate.rights.set(rights)
    return mandate


def grant_power_of_attorney(
    *,
    acting_user: User,
    attorney_national_id: str,
    attorney_name: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    on_behalf_of_ward: User | None = None,
) -> PowerOfAttorney:
    """The grantor (the acting user) appoints an attorney, who must then accept.

    The attorney is identified by CPR number *and* name: only a verified person with that CPR
    number and that name can see and accept it; otherwise it waits as an invitation for them.
    Only a verified person can give one, nobody can appoint themselves, and an identical open
    power of attorney to the same person is refused. A minor cannot give one, nor can a ward under
    financial guardianship with financial rights; a guardian gives one ``on_behalf_of_ward`` only
    within the guardianship's scope (``policy.grant_refusal``).
    """
    with transaction.atomic(durable=True):
        return _grant(
            grantor=on_behalf_of_ward or acting_user,
            created_by=acting_user,
            attorney_national_id=attorney_national_id,
            attorney_name=attorney_name,
            rights=rights,
            valid_from=valid_from,
            valid_until=valid_until,
            guardian=acting_user if on_behalf_of_ward is not None else None,
        )


def _grant(
    *,
    grantor: User,
    created_by: User,
    attorney_national_id: str,
    attorney_name: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    basis: str = Basis.DIGITAL,
    replaces: PowerOfAttorney | None = None,
    registered_by: User | None = None,
    paper_document=None,
    notify_parties: bool = True,
    guardian: User | None = None,
    joint_appointment: JointAppointment | None = None,
) -> PowerOfAttorney:
    """``grant_power_of_attorney``'s rules, inside the caller's transaction. A paper basis names
    the registering caseworker and carries the signed form; ``replaces`` is the mandate a change
    replaces once accepted; ``guardian`` gives it on the grantor's behalf. A caller that tells the
    parties itself passes ``notify_parties=False``."""
    try:
        cpr = normalize_cpr(attorney_national_id)
    except ValidationError as error:
        raise ValidationError({"attorney_national_id": error.messages}) from None
    name = " ".join((attorney_name or "").split())
    if not name:
        raise ValidationError({"attorney_name": _("Enter the name of the person you want to appoint.")})
    require_verified_identity(grantor)
    if cpr == grantor.national_id:
        raise ValidationError({"attorney_national_id": _("You cannot appoint yourself.")})
    rights = _check_grant(
        grantor=grantor, rights=rights, valid_from=valid_from, valid_until=valid_until, guardian=guardian
    )
    # Only a verified account with the same name is the attorney. Otherwise (no account, an
    # unverified one, another name) it waits as an invitation for the CPR number and name: the
    # grantor sees the same outcome in every case, so the form tells nobody who uses the portal.
    attorney = User.objects.with_verified_cpr(cpr).first()
    if attorney is not None and not names_match(name, attorney.name):
        attorney = None
    if _identical_open_mandate_exists(
        grantor=grantor, attorney=attorney, invitee_national_id=cpr, rights=rights, exclude=replaces
    ):
        raise ValidationError(
            _("This person already has, or has been offered, a power of attorney with exactly these rights.")
        )
    mandate = _create(
        grantor=grantor,
        attorney=attorney,
        invitee_national_id=cpr,
        invitee_name=name,
        rights=rights,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=created_by,
        basis=basis,
        replaces=replaces,
        registered_by=registered_by,
        paper_document=paper_document,
        joint_appointment=joint_appointment,
    )
    _audit_granted(mandate, created_by, rights)
    if notify_parties:
        _notify_parties(mandate, "granted")
    return mandate


def _check_grant(
    *,
    grantor: User,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    guardian: User | None = None,
) -> list[Right]:
    """The rules every grant keeps, whoever the attorney: known rights, a sound period, a grantor who
    may give these rights (``policy.grant_refusal``). Then grants by the same grantor are
    serialised, so two identical submissions cannot both pass the duplicate check that follows."""
    rights = _validate_rights(rights)
    _validate_period(valid_from, valid_until)
    refusal = grant_refusal(grantor=grantor, rights=rights, guardian=guardian)
    if refusal is not None:
        raise ValidationError(refusal, code="grant_refused")
    User.objects.select_for_update(of=("self",)).filter(pk=grantor.pk).first()
    return rights


def organisation_to_appoint(*, cvr: str, organisation_name: str) -> Organisation:
    """The registered organisation a grantor names by CVR number and name, or a ValidationError on
    the field to correct: a malformed number on ``cvr``, an unknown number or a name that is not the
    registered one on ``organisation_name``. Asked on the form, and again when granting."""
    try:
        cvr = normalize_cvr(cvr)
    except ValidationError as error:
        raise ValidationError({"cvr": error.messages}) from None
    organisation = organisation_by_cvr_and_name(cvr=cvr, name=organisation_name or "")
    if organisation is None:
        raise ValidationError(
            {
                "organisation_name": _(
                    "No organisation with this CVR number and name can receive powers of attorney in the "
                    "portal. Check the number and the name as registered."
                )
            }
        )
    return organisation


def grant_power_of_attorney_to_organisation(
    *,
    acting_user: User,
    cvr: str,
    organisation_name: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
) -> PowerOfAttorney:
    """The grantor (the acting user) gives a power of attorney to an organisation, named by CVR
    number *and* name as registered; one of its administrators must accept it. Its members then act
    with the access its administrators give them, within the same rights and period.

    The same rules as ``grant_power_of_attorney`` apply to the grantor and the rights.
    """
    organisation = organisation_to_appoint(cvr=cvr, organisation_name=organisation_name)
    with transaction.atomic(durable=True):
        require_verified_identity(acting_user)
        return _grant_to_organisation(
            grantor=acting_user,
            created_by=acting_user,
            organisation=organisation,
            rights=rights,
            valid_from=valid_from,
            valid_until=valid_until,
        )


def _grant_to_organisation(
    *,
    grantor: User,
    created_by: User,
    organisation: Organisation,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    replaces: PowerOfAttorney | None = None,
) -> PowerOfAttorney:
    rights = _check_grant(grantor=grantor, rights=rights, valid_from=valid_from, valid_until=valid_until)
    if _identical_open_mandate_exists(
        grantor=grantor,
        attorney=None,
        invitee_national_id="",
        rights=rights,
        exclude=replaces,
        organisation=organisation,
    ):
        raise ValidationError(
            _(
                "This organisation already has, or has been offered, a power of attorney with exactly these rights."
            )
        )
    mandate = _create(
        grantor=grantor,
        attorney=None,
        invitee_national_id="",
        invitee_name="",
        rights=rights,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=created_by,
        basis=Basis.DIGITAL,
        replaces=replaces,
        organisation=organisation,
    )
    _audit_granted(mandate, created_by, rights)
    _notify_parties(mandate, "granted")
    return mandate


#: How many attorneys one appointment may name.
MAX_JOINT_ATTORNEYS = 5


def grant_joint_power_of_attorney(
    *,
    acting_user: User,
    attorneys: Iterable[tuple[str, str]],
    mode: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
) -> JointAppointment:
    """The grantor appoints two or more attorneys (CPR number, name) at once, with the same rights
    and period, to act each alone (``severally``) or together on applications (``jointly``: an
    application one of them makes waits until another approves it, and any of them can stop it).

    Each attorney gets their own mandate by the same rules as ``grant_power_of_attorney`` and
    accepts it on their own; either all mandates are created or none.
    """
    if mode not in JointMode.values:
        raise ValidationError({"mode": _("Choose how the attorneys should act.")})
    attorneys = [(cpr or "", name or "") for cpr, name in attorneys]
    if not 2 <= len(attorneys) <= MAX_JOINT_ATTORNEYS:
        raise ValidationError(
            {"attorneys": _("Appoint between 2 and %(max)d attorneys.") % {"max": MAX_JOINT_ATTORNEYS}}
        )
    numbers = []
    for cpr, _name in attorneys:
        try:
            numbers.append(normalize_cpr(cpr))
        except ValidationError as error:
            raise ValidationError({"attorney_national_id": error.messages}) from None
    if len(set(numbers)) != len(numbers):
        raise ValidationError({"attorneys": _("Each attorney can be appointed only once.")})
    rights = list(rights)
    with transaction.atomic(durable=True):
        require_verified_identity(acting_user)
        appointment = JointAppointment.objects.create(grantor=acting_user, mode=mode)
        for cpr, name in attorneys:
            _grant(
                grantor=acting_user,
                created_by=acting_user,
                attorney_national_id=cpr,
                attorney_name=name,
                rights=rights,
                valid_from=valid_from,
                valid_until=valid_until,
                joint_appointment=appointment,
            )
    return appointment


def accept(*, power_of_attorney: PowerOfAttorney, acting_user: User) -> PowerOfAttorney:
    """The appointed person accepts; from then on they may act within the rights and period."""
    with transaction.atomic(durable=True):
        mandate = _lock(power_of_attorney)
        if not _is_addressed_to(mandate, acting_user):
            raise NotAllowed(_("This power of attorney is not addressed to you."))
        if mandate.valid_until <= timezone.now():
            raise Conflict(_("This power of attorney has already ended."), code="ended")
        if not mandate.organisation_id:
            mandate.attorney = acting_user
        _activate(mandate, by=acting_user)
        _audit("accepted", mandate, acting_user)
        _notify_parties(mandate, "accepted")
    return mandate


def decline(*, power_of_attorney: PowerOfAttorney, acting_user: User, reason: str = "") -> PowerOfAttorney:
    """The appointed person says no; nothing was ever in force."""
    with transaction.atomic(durable=True):
        mandate = _lock(power_of_attorney)
        if not _is_addressed_to(mandate, acting_user):
            raise NotAllowed(_("This power of attorney is not addressed to you."))
        if mandate.attorney_id is None and not mandate.organisation_id:
            mandate.attorney = acting_user
            mandate.save(update_fields=["attorney"])
        _end(mandate, Status.DECLINED, by=acting_user, reason=reason)
        _audit("declined", mandate, acting_user, reason=reason)
        _notify_parties(mandate, "declined")
    return mandate


def revoke(*, power_of_attorney: PowerOfAttorney, acting_user: User, reason: str = "") -> PowerOfAttorney:
    """The grantor ends the power of attorney; it stops working at the attorney's next request."""
    return _end_by_party(
        power_of_attorney=power_of_attorney,
        acting_user=acting_user,
        party="grantor",
        status=Status.REVOKED,
        reason=reason,
        refusal=_("Only the person who gave the power of attorney can revoke it."),
    )


def resign(*, power_of_attorney: PowerOfAttorney, acting_user: User, reason: str = "") -> PowerOfAttorney:
    """The attorney steps down (for an organisation, one of its administrators); the grantor is told."""
    return _end_by_party(
        power_of_attorney=power_of_attorney,
        acting_user=acting_user,
        party="attorney",
        status=Status.RESIGNED,
        reason=reason,
        refusal=_("Only the attorney can resign from a power of attorney."),
    )


def _end_by_party(
    *,
    power_of_attorney: PowerOfAttorney,
    acting_user: User,
    party: str,
    status: str,
    reason: str,
    refusal: str,
) -> PowerOfAttorney:
    """One party ends the power of attorney: only that party may, and both are told."""
    with transaction.atomic(durable=True):
        mandate = _lock(power_of_attorney)
        if party == "grantor" or not mandate.organisation_id:
            speaks = acting_user.pk == getattr(mandate, f"{party}_id")
        else:  # an organisation resigns by one of its administrators
            speaks = _is_addressed_to(mandate, acting_user)
        if not speaks:
            raise NotAllowed(refusal)
        _end(mandate, status, by=acting_user, reason=reason)
        _audit(status, mandate, acting_user, reason=reason)
        _notify_parties(mandate, status)
    return mandate


EXPIRY_BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ExpiredMandate:
    """A power of attorney the expiry job ended, as plain values: what its audit event and the
    authorities' events say of it. A batch is a thousand mandates, and model instances with their
    grantor, attorney and rights cost most of the job's time."""

    pk: uuid.UUID
    grantor_id: int
    attorney_id: int | None
    organisation_id: int | None
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    activated_at: datetime.datetime | None
    replaces_id: uuid.UUID | None
    grantor_national_id: str
    attorney_national_id: str | None
    organisation_cvr: str | None
    #: (code, authority id) of each right it gave.
    rights: tuple[tuple[str, int], ...]
    status: str = Status.EXPIRED


_EXPIRY_COLUMNS = (
    "pk",
    "grantor_id",
    "attorney_id",
    "organisation_id",
    "valid_from",
    "valid_until",
    "activated_at",
    "replaces_id",
    "grantor__national_id",
    "attorney__national_id",
    "organisation__cvr",
)


def expire_due(*, now: datetime.datetime | None = None, batch_size: int = EXPIRY_BATCH_SIZE) -> int:
    """End every pending or active power of attorney whose period is over.

    Set-based, one batch per transaction: a batch's statuses change and its permission rows go in
    two statements, its rights are read in one, and its audit events and authority events are
    written in one statement each for the whole batch. The emails are rendered and queued by a
    task after each batch commits, once per person and mandate. Due rows another run has locked
    are skipped, and nothing else is locked, so other writers never wait for the job, and an error
    loses one batch, not the day. Access already stopped at valid_until: every check reads the
    period, so this job only tidies up and tells people.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic(durable=True):
            due = _end_due_batch(now=now, batch_size=batch_size)
            if not due:
                break
            record_events(
                [
                    {
                        "action": "power_of_attorney.expired",
                        "actor": None,
                        "target_type": PowerOfAttorney._meta.model_name,
                        "target_id": str(mandate.pk),
                        "details": _audit_details(mandate),
                    }
                    for mandate in due
                ]
            )
            powers_of_attorney_changed.send(
                sender=PowerOfAttorney,
                mandates=[m for m in due if m.activated_at is not None],
                type="expired",
            )
            ids = [str(mandate.pk) for mandate in due]
            transaction.on_commit(lambda ids=ids: _queue_expiry_notices(ids), robust=True)
        total += len(due)
        if len(due) < batch_size:
            break
    return total


def _end_due_batch(*, now: datetime.datetime, batch_size: int) -> list[ExpiredMandate]:
    """Lock up to ``batch_size`` due mandates (skipping those another run holds), mark them
    expired and remove their permission rows; what they were, as plain values."""
    rows = list(
        PowerOfAttorney.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(status__in=[Status.PENDING, Status.ACTIVE], valid_until__lte=now)
        # In the order of the index on (status, valid_until), so each batch is read off the
        # index. Unordered, PostgreSQL chose a table scan that stopped after a batch, and it grew
        # longer with every batch as the due rows left became rarer.
        .order_by("status", "valid_until")
        .values_list(*_EXPIRY_COLUMNS)[:batch_size]
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    PowerOfAttorney.objects.filter(pk__in=ids).update(status=Status.EXPIRED, ended_at=now, updated_at=now)
    remove_object_permissions(ids)
    rights: dict[uuid.UUID, list[tuple[str, int]]] = {}
    for mandate_id, code, authority_id in PowerOfAttorney.rights.through.objects.filter(
        powerofattorney_id__in=ids
    ).values_list("powerofattorney_id", "right__code", "right__service__authority_id"):
        rights.setdefault(mandate_id, []).append((code, authority_id))
    return [ExpiredMandate(*row, rights=tuple(rights.get(row[0], ()))) for row in rows]


def _queue_expiry_notices(mandate_ids: list[str]) -> None:
    from .tasks import send_expiry_notices

    send_expiry_notices.delay(mandate_ids)


def send_expiry_notices(*, mandate_ids: list[str]) -> int:
    """Tell grantor and attorney that their power of attorney expired; once per person and mandate."""
    mandates = (
        PowerOfAttorney.objects.filter(pk__in=mandate_ids, status=Status.EXPIRED)
        .select_related("grantor", "attorney")
        .prefetch_related("rights")
    )
    count = 0
    for mandate in mandates:
        with transaction.atomic(durable=True):
            _notify_parties(mandate, "expired")
        count += 1
    return count


def send_expiry_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind both parties once, some days before an active power of attorney runs out."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=settings.POWER_OF_ATTORNEY_REMINDER_DAYS)
    with transaction.atomic(durable=True):
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


def renew(
    *, power_of_attorney: PowerOfAttorney, acting_user: User, valid_until: datetime.datetime
) -> PowerOfAttorney:
    """Same attorney and rights, a new end date, in one step.

    The attorney already accepted exactly these rights, so the renewal is in force at once and
    replaces the old power of attorney; the attorney is told and can resign as always.
    """
    with transaction.atomic(durable=True):
        old = _lock(power_of_attorney)
        if acting_user.pk != old.grantor_id:
            raise NotAllowed(_("Only the person who gave the power of attorney can renew it."))
        if old.status != Status.ACTIVE:
            raise Conflict(_("Only a power of attorney in force can be renewed."), code="transition")
        _refuse_emergency(old)
        now = timezone.now()
        _validate_period(now, valid_until)
        if valid_until <= old.valid_until:
            raise ValidationError({"valid_until": _("The new end date must be later than the current one.")})
        new = _create(
            grantor=old.grantor,
            attorney=old.attorney,
            organisation=old.organisation,
            invitee_national_id="",
            invitee_name="",
            rights=list(old.rights.all()),
            valid_from=max(now, old.valid_from),
            valid_until=valid_until,
            created_by=acting_user,
            basis=old.basis,
            replaces=old,
            joint_appointment=old.joint_appointment,
        )
        _activate(new, by=acting_user)
        _audit("renewed", new, acting_user, replaces=str(old.pk), valid_until=valid_until.isoformat())
        _notify_parties(new, "renewed")
    return new


def change(
    *,
    power_of_attorney: PowerOfAttorney,
    acting_user: User,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
) -> PowerOfAttorney:
    """Changing rights or period makes a new power of attorney that replaces the old one once accepted."""
    with transaction.atomic(durable=True):
        old = _lock(power_of_attorney)
        if acting_user.pk != old.grantor_id:
            raise NotAllowed(_("Only the person who gave the power of attorney can change it."))
        if old.status not in (Status.ACTIVE, Status.PENDING):
            raise Conflict(_("An ended power of attorney cannot be changed."), code="transition")
        _refuse_emergency(old)
        if old.organisation_id:
            return _grant_to_organisation(
                grantor=old.grantor,
                created_by=acting_user,
                organisation=old.organisation,
                rights=rights,
                valid_from=valid_from,
                valid_until=valid_until,
                replaces=old,
            )
        return _grant(
            grantor=old.grantor,
            attorney_national_id=old.attorney.national_id if old.attorney_id else old.invitee_national_id,
            attorney_name=old.attorney_name,
            rights=rights,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=acting_user,
            replaces=old,
            joint_appointment=old.joint_appointment,
        )


def _refuse_emergency(mandate: PowerOfAttorney) -> None:
    if mandate.basis == Basis.EMERGENCY:
        raise Conflict(
            _("An emergency power of attorney cannot be renewed or changed. Give an ordinary one instead."),
            code="emergency",
        )


def _is_addressed_to(mandate: PowerOfAttorney, user: User) -> bool:
    """The attorney named, for an invitation the verified person with its CPR number and name, for
    an organisation one of its current administrators."""
    if not user.is_identity_verified:
        return False
    if mandate.organisation_id:
        return any(administrator.pk == user.pk for administrator in _attorney_side(mandate))
    if mandate.attorney_id is not None:
        return mandate.attorney_id == user.pk
    return mandate.invitee_national_id == user.national_id and names_match(mandate.invitee_name, user.name)


# --- Organisations' members and their access ------------------------------------------------


def _lock_current_member(membership: Membership, acting_user: User) -> Membership:
    """The membership locked, after checking the acting user administers its organisation now."""
    require_verified_identity(acting_user)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("organisation", "user")
        .get(pk=membership.pk)
    )
    administers = (
        Membership.objects.current()
        .filter(organisation_id=membership.organisation_id, user=acting_user, role=Role.ADMINISTRATOR)
        .exists()
    )
    if not administers:
        raise NotAllowed(_("Only an administrator of the organisation can do this."))
    if not membership.has_joined or membership.has_left:
        raise Conflict(
            _("Only a member who has joined, and not left, can be given access."), code="not_member"
        )
    return membership


def _audit_access(action: str, access: OrganisationAccess, acting_user: User) -> None:
    mandate = access.power_of_attorney
    record_event(
        action=f"organisation.{action}",
        actor=acting_user,
        # The grantor sees in "done in my name" who was let use their power of attorney.
        principal=mandate.grantor if mandate is not None else None,
        target=access,
        details={
            "organisation": access.membership.organisation_id,
            "member": access.membership.user_id,
            "power_of_attorney": str(mandate.pk) if mandate is not None else None,
        },
    )


def give_organisation_access(
    *, acting_user: User, membership: Membership, power_of_attorney: PowerOfAttorney | None = None
) -> OrganisationAccess:
    """An administrator lets a member use one of the organisation's powers of attorney, or all of
    them now and later (``power_of_attorney`` None). From then on the member acts for the grantor
    within its rights and period; the grantor can see who was given access."""
    with transaction.atomic(durable=True):
        membership = _lock_current_member(membership, acting_user)
        mandate = None
        if power_of_attorney is not None:
            mandate = _lock(power_of_attorney)
            if mandate.organisation_id != membership.organisation_id:
                raise NotAllowed(_("This power of attorney is not given to the organisation."))
            if mandate.is_ended:
                raise Conflict(_("This power of attorney has ended."), code="ended")
        open_access = OrganisationAccess.objects.filter(membership=membership, removed_at__isnull=True)
        if open_access.filter(power_of_attorney__isnull=True).exists() or (
            mandate is not None and open_access.filter(power_of_attorney=mandate).exists()
        ):
            raise Conflict(_("The member already has this access."), code="already")
        access = OrganisationAccess.objects.create(
            membership=membership, power_of_attorney=mandate, granted_by=acting_user
        )
        if mandate is None:
            # Access to all replaces access one by one: one row says it all.
            open_access.filter(power_of_attorney__isnull=False).update(
                removed_at=access.granted_at, removed_by=acting_user
            )
        project_member_access(membership)
        _audit_access("access_given", access, acting_user)
    return access


def remove_organisation_access(*, acting_user: User, access: OrganisationAccess) -> OrganisationAccess:
    """An administrator takes a member's access away; it stops at the member's next request."""
    with transaction.atomic(durable=True):
        access = (
            OrganisationAccess.objects.select_for_update(of=("self",))
            .select_related("power_of_attorney__grantor", "membership")
            .get(pk=access.pk)
        )
        _lock_current_member(access.membership, acting_user)
        if access.removed_at is not None:
            raise Conflict(_("This access has already been removed."), code="already")
        access.removed_at = timezone.now()
        access.removed_by = acting_user
        access.save(update_fields=["removed_at", "removed_by"])
        project_member_access(access.membership)
        _audit_access("access_removed", access, acting_user)
    return access


def end_member_access(*, membership: Membership, acting_user: User) -> None:
    """A membership ended (``organisations.services.end_membership``, same transaction): its access
    ends with it, and the member's permission rows go at once."""
    OrganisationAccess.objects.filter(membership=membership, removed_at__isnull=True).update(
        removed_at=membership.left_at, removed_by=acting_user
    )
    project_member_access(membership)


# --- Requests from a relative ---------------------------------------------------------------


def request_power_of_attorney(
    *,
    acting_user: User,
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
    require_verified_identity(acting_user)
    try:
        cpr = normalize_cpr(grantor_national_id)
    except ValidationError as error:
        raise ValidationError({"grantor_national_id": error.messages}) from None
    if cpr == acting_user.national_id:
        raise ValidationError({"grantor_national_id": _("You cannot ask yourself for a power of attorney.")})
    rights = _validate_rights(rights)
    _validate_period(timezone.now(), valid_until)
    with transaction.atomic(durable=True):
        User.objects.select_for_update(of=("self",)).filter(pk=acting_user.pk).first()
        grantor = User.objects.with_verified_cpr(cpr).first()
        if grantor is None or not names_match(grantor_name, grantor.name):
            raise ValidationError(
                _("We could not find a person using the portal with this CPR number and name.")
            )
        open_count = AttorneyRequest.objects.filter(
            requester=acting_user, status=RequestStatus.PENDING
        ).count()
        if open_count >= settings.ATTORNEY_REQUEST_MAX_OPEN:
            raise ValidationError(
                _("You have %(count)d unanswered requests. Wait for an answer before asking again.")
                % {"count": open_count}
            )
        blocked = RequesterBlock.objects.filter(citizen=grantor, blocked=acting_user).exists()
        cooldown_start = timezone.now() - datetime.timedelta(days=settings.ATTORNEY_REQUEST_COOLDOWN_DAYS)
        recently_rejected = AttorneyRequest.objects.filter(
            requester=acting_user,
            grantor=grantor,
            status=RequestStatus.REJECTED,
            decided_at__gte=cooldown_start,
        ).exists()
        if blocked or recently_rejected:
            raise ValidationError(
                _("You cannot ask this person for a power of attorney right now. Talk to them directly.")
            )
        if AttorneyRequest.objects.filter(
            requester=acting_user, grantor=grantor, status=RequestStatus.PENDING
        ).exists():
            raise ValidationError(_("You have already asked this person. Wait for their answer."))
        attorney_request = AttorneyRequest.objects.create(
            requester=acting_user, grantor=grantor, message=message.strip(), valid_until=valid_until
        )
        attorney_request.rights.set(rights)
        record_event(
            action="attorney_request.created",
            actor=acting_user,
            principal=acting_user,
            target=attorney_request,
            details={"grantor": grantor.pk, "rights": sorted(r.code for r in rights)},
        )
        notify(
            recipient=grantor,
            event_key=f"request:{attorney_request.pk}:created",
            template="attorney/email/request",
            context={"attorney_request": attorney_request},
            params={"event": "created", "r": acting_user.name, "g": grantor.name},
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
        raise NotAllowed(_("This request is not addressed to you."))
    if locked.status != RequestStatus.PENDING:
        raise Conflict(_("This request has already been answered."), code="transition")
    return locked


def approve_request(
    *,
    attorney_request: AttorneyRequest,
    acting_user: User,
    rights: Iterable[Right],
    valid_until: datetime.datetime,
) -> PowerOfAttorney:
    """The citizen says yes, possibly to fewer rights or a shorter period than asked for.

    The requester asked for it, so the power of attorney is in force at once.
    """
    rights = _validate_rights(rights)
    with transaction.atomic(durable=True):
        locked = _lock_open_request(attorney_request, acting_user)
        asked = {right.pk for right in locked.rights.all()}
        if not {right.pk for right in rights} <= asked:
            raise ValidationError({"rights": _("You can only give rights that were asked for.")})
        if valid_until > locked.valid_until:
            raise ValidationError({"valid_until": _("The end date cannot be later than the one asked for.")})
        mandate = _grant(
            grantor=acting_user,
            attorney_national_id=locked.requester.national_id,
            attorney_name=locked.requester.name,
            rights=rights,
            valid_from=timezone.now(),
            valid_until=valid_until,
            created_by=acting_user,
        )
        mandate = _lock(mandate)
        _activate(mandate, by=acting_user)
        _audit("accepted", mandate, acting_user, via_request=str(locked.pk))
        locked.status = RequestStatus.APPROVED
        locked.decided_at = timezone.now()
        locked.power_of_attorney = mandate
        locked.save(update_fields=["status", "decided_at", "power_of_attorney"])
        record_event(
            action="attorney_request.approved", actor=acting_user, principal=acting_user, target=locked
        )
        _notify_parties(mandate, "accepted", to=[locked.requester])
    return mandate


def reject_request(
    *, attorney_request: AttorneyRequest, acting_user: User, block: bool = False
) -> AttorneyRequest:
    """The citizen says no, and may block further requests from the same person."""
    with transaction.atomic(durable=True):
        locked = _lock_open_request(attorney_request, acting_user)
        locked.status = RequestStatus.REJECTED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        if block:
            RequesterBlock.objects.get_or_create(citizen=acting_user, blocked=locked.requester)
        record_event(
            action="attorney_request.rejected",
            actor=acting_user,
            principal=acting_user,
            target=locked,
            details={"block": block},
        )
        notify(
            recipient=locked.requester,
            event_key=f"request:{locked.pk}:rejected",
            template="attorney/email/request",
            context={"attorney_request": locked},
            params={"event": "rejected", "r": locked.requester.name, "g": acting_user.name},
            link=reverse("attorney:overview"),
        )
    return locked


# --- Caseworkers --------------------------------------------------------------------------------


def register_paper_power_of_attorney(
    *,
    acting_user: User,
    grantor_national_id: str,
    grantor_name: str,
    attorney_national_id: str,
    attorney_name: str,
    rights: Iterable[Right],
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    document,
) -> PowerOfAttorney:
    """A caseworker registers a power of attorney that a citizen signed on paper at the counter.

    - It goes through ``grant_power_of_attorney``, so the rules of the digital path hold: attorney
      by CPR and name, nobody appoints themselves, period, no identical open power of attorney.
    - The grantor must use the portal and is identified by CPR *and* name, so one mistyped digit
      cannot create a power of attorney for someone else. The caseworker cannot be a party.
    - A caseworker registers only rights of their own authority; the service desk any right.
    - The signed form is kept as a PDF, judged by its content, at most ``MAX_UPLOAD_BYTES``.
    - Grantor and attorney have both signed the form, so the attorney's signature is their
      acceptance: if the attorney uses the portal, the power of attorney is in force at once. If
      not, there is no account to give access to, so it waits as an invitation for their CPR
      number and comes into force when they sign up and accept it, which also shows that the
      person signing up is the one named on the form.
    - Each party gets one notice that it is registered (and in force, or waiting for the attorney
      to sign up) and sees it in the portal; the registration is audited at the
      caseworker's authority, with the grantor as the person it was done for.
    """
    from authorities.catalogue.selectors import authority_of_caseworker
    from authorities.catalogue.validators import validate_pdf

    authority = authority_of_caseworker(acting_user)
    if authority is None and not acting_user.is_superuser:
        raise NotAllowed(_("Only caseworkers can register a power of attorney signed on paper."))
    errors: dict[str, list[str]] = {}
    try:
        grantor_cpr = normalize_cpr(grantor_national_id)
    except ValidationError as error:
        errors["grantor_national_id"], grantor_cpr = error.messages, ""
    try:
        attorney_cpr = normalize_cpr(attorney_national_id)
    except ValidationError as error:
        errors["attorney_national_id"], attorney_cpr = error.messages, ""
    if document is None:
        errors["document"] = [_("Attach the signed form as a PDF.")]
    else:
        try:
            validate_pdf(document)
        except ValidationError as error:
            errors["document"] = error.messages
    try:
        rights = _validate_rights(rights)
    except ValidationError as error:
        errors.update(error.message_dict)
    else:
        if authority is not None and any(right.service.authority_id != authority.pk for right in rights):
            errors["rights"] = [_("You can only register rights of your own authority.")]
    if errors:
        raise ValidationError(errors)
    grantor = User.objects.with_verified_cpr(grantor_cpr).filter(is_active=True).first()
    if grantor is None or not names_match(grantor_name or "", grantor.name):
        raise ValidationError(
            {"grantor_national_id": _("No person using the portal has this CPR number and name.")}
        )
    if acting_user.pk == grantor.pk or (acting_user.national_id and acting_user.national_id == attorney_cpr):
        raise NotAllowed(_("You cannot register a power of attorney that you are a party to."))

    with transaction.atomic(durable=True):
        mandate = _grant(
            grantor=grantor,
            attorney_national_id=attorney_cpr,
            attorney_name=attorney_name,
            rights=rights,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=acting_user,
            basis=Basis.PAPER,
            registered_by=acting_user,
            paper_document=document,
            notify_parties=False,
        )
        mandate = _lock(mandate)
        record_event(
            action="power_of_attorney.registered_on_paper",
            actor=acting_user,
            principal=grantor,
            authority=authority,
            target=mandate,
            details={
                "grantor": grantor.pk,
                "attorney": mandate.attorney_id,
                "rights": sorted(right.code for right in rights),
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
            },
        )
        if mandate.attorney_id is not None:
            _activate(mandate, by=acting_user)
            _audit("accepted", mandate, acting_user, basis=Basis.PAPER)
        # One notice each: both signed the form, so nobody is asked to accept and nobody "accepted".
        _notify_parties(mandate, "registered")
    return mandate


def revoke_by_caseworker(
    *, power_of_attorney: PowerOfAttorney, acting_user: User, reason: str
) -> PowerOfAttorney:
    """A caseworker ends a power of attorney on information the authority holds.

    For example the grantor has died, or a court has decided a guardianship. The reason is
    required, because neither party asked for this and both must be able to see why. The
    caseworker's authority must have at least one right in the power of attorney (the service
    desk may end any). It ends as a whole, not only at that authority: death or guardianship ends
    the grantor's power to be represented anywhere. A pending one can be ended too, so an
    invitation cannot be accepted afterwards.
    """
    from authorities.catalogue.selectors import authority_of_caseworker, is_in_caseworker_scope

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for revoking the power of attorney.")})
    with transaction.atomic(durable=True):
        mandate = _lock(power_of_attorney)
        if not is_in_caseworker_scope(user=acting_user, record=mandate):
            raise NotAllowed(
                _("This power of attorney does not include any rights of your authority."),
            )
        _end(mandate, Status.REVOKED, by=acting_user, reason=reason)
        record_event(
            action="power_of_attorney.revoked",
            actor=acting_user,
            principal=mandate.grantor,
            authority=authority_of_caseworker(acting_user),
            target=mandate,
            details={
                "grantor": mandate.grantor_id,
                "attorney": mandate.attorney_id,
                "reason": reason,
                "by_caseworker": True,
            },
        )
        _notify_parties(mandate, "revoked")
    return mandate


# --- Access codes: proof for organisations without integration --------------------------------

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed without doubt
ACCESS_CODE_LENGTH = 12  # 31**12 ≈ 2**59 codes: guessing one is hopeless under the rate limits
ACCESS_CODE_DAYS = 30
ACCESS_CODE_MAX_WRONG_SURNAMES = 5
ACCESS_CODE_LOCK_HOURS = 24


def normalize_access_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_access_code(code: str) -> str:
    import hashlib

    return hashlib.sha256(normalize_access_code(code).encode()).hexdigest()


def create_access_code(
    *, power_of_attorney: PowerOfAttorney, acting_user: User, label: str = ""
) -> tuple[AccessCode, str]:
    """The attorney or the grantor makes a code an organisation can use to see the power of attorney.

    The code is returned only now; the portal keeps a hash.
    """
    import secrets

    if acting_user.pk not in (power_of_attorney.grantor_id, power_of_attorney.attorney_id):
        raise NotAllowed(_("Only the grantor or the attorney can make an access code."))
    if not power_of_attorney.is_in_force():
        raise Conflict(_("Access codes can only be made for a power of attorney in force."))
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    code = "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))
    with transaction.atomic(durable=True):
        access_code = AccessCode.objects.create(
            power_of_attorney=power_of_attorney,
            code_hash=hash_access_code(code),
            code_end=raw[-4:],
            label=label.strip()[:100],
            created_by=acting_user,
            expires_at=timezone.now() + datetime.timedelta(days=ACCESS_CODE_DAYS),
        )
        record_event(
            action="access_code.created",
            actor=acting_user,
            principal=acting_user,
            target=power_of_attorney,
            details={"access_code": str(access_code.pk), "label": access_code.label},
        )
    return access_code, code


def revoke_access_code(*, access_code: AccessCode, acting_user: User) -> AccessCode:
    mandate = access_code.power_of_attorney
    if acting_user.pk not in (mandate.grantor_id, mandate.attorney_id):
        raise NotAllowed(_("Only the grantor or the attorney can revoke an access code."))
    with transaction.atomic(durable=True):
        AccessCode.objects.filter(pk=access_code.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        record_event(
            action="access_code.revoked",
            actor=acting_user,
            principal=acting_user,
            target=mandate,
            details={"access_code": str(access_code.pk)},
        )
    access_code.refresh_from_db()
    return access_code


def surname_of(name: str) -> str:
    words = name.split()
    return words[-1].casefold() if words else ""


def view_with_access_code(*, code: str, surname: str, viewer_label: str) -> PowerOfAttorney | None:
    """An organisation looks a power of attorney up with a code and the grantor's surname.

    Returns None for every failure alike (unknown, expired, revoked or locked code, wrong surname),
    so the answer tells a guesser nothing. Repeated wrong surnames lock the code for a day. Each
    successful look is logged for the grantor and the attorney to see.
    """
    with transaction.atomic(durable=True):
        access_code = (
            AccessCode.objects.select_for_update(of=("self",))
            .select_related("power_of_attorney__grantor")
            .filter(code_hash=hash_access_code(code))
            .first()
        )
        if access_code is None or not access_code.is_usable:
            return None
        mandate = access_code.power_of_attorney
        if not surname.strip() or surname_of(surname) != surname_of(mandate.grantor.name):
            access_code.failed_attempts += 1
            if access_code.failed_attempts >= ACCESS_CODE_MAX_WRONG_SURNAMES:
                access_code.locked_until = timezone.now() + datetime.timedelta(hours=ACCESS_CODE_LOCK_HOURS)
                access_code.failed_attempts = 0
            access_code.save(update_fields=["failed_attempts", "locked_until"])
            return None
        label = " ".join(viewer_label.split())[:200]
        AccessCodeView.objects.create(access_code=access_code, viewer_label=label)
        record_event(
            action="access_code.viewed",
            actor=None,
            principal=mandate.grantor,
            target=mandate,
            details={"access_code": str(access_code.pk), "viewer": label},
        )
    return mandate


# --- Emergency powers of attorney ----------------------------------------------------------------


def emergency_rights(authorities: Iterable) -> list[Right]:
    """The rights an emergency power of attorney gives at these authorities."""
    codes = [f"{authority.slug}.{EMERGENCY_RIGHT}" for authority in authorities]
    return list(Right.objects.filter(code__in=codes).select_related("service__authority"))


def request_emergency_power_of_attorney(
    *,
    acting_user: User,
    citizen_national_id: str,
    citizen_name: str,
    authorities: Iterable,
    days: int,
    reason: str,
    repeat_reason: str = "",
) -> EmergencyRequest:
    """A relative asks to read the letters of a citizen who suddenly cannot act (in hospital, say).

    - The relative and the citizen are verified people; the citizen is named by CPR number *and*
      name, and the relative cannot ask for themselves. A reason is required.
    - At most ``EMERGENCY_MAX_DAYS`` days, and only the right to read letters from the authorities
      chosen: nothing with legal effect.
    - It cannot be renewed: while one is open or in force for the two, another is refused, and one
      within ``EMERGENCY_REPEAT_DAYS`` days of the last needs a stated reason.
    - Nothing is in force until two different caseworkers approve (``approve_emergency_request``).
    """
    require_verified_identity(acting_user)
    errors: dict[str, list[str]] = {}
    try:
        cpr = normalize_cpr(citizen_national_id)
    except ValidationError as error:
        errors["citizen_national_id"], cpr = error.messages, ""
    reason, repeat_reason = (reason or "").strip(), (repeat_reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the person cannot act themselves.")]
    if not isinstance(days, int) or not 1 <= days <= EMERGENCY_MAX_DAYS:
        errors["days"] = [_("Choose between 1 and %(max)d days.") % {"max": EMERGENCY_MAX_DAYS}]
    rights = emergency_rights(authorities)
    if not rights:
        errors["authorities"] = [_("Choose at least one authority whose letters you need to read.")]
    if errors:
        raise Invalid(errors)
    citizen = User.objects.with_verified_cpr(cpr).filter(is_active=True).first()
    if citizen is None or not names_match(citizen_name or "", citizen.name):
        raise Invalid({"citizen_national_id": _("No person using the portal has this CPR number and name.")})
    if citizen.pk == acting_user.pk:
        raise Invalid(
            {"citizen_national_id": _("You cannot ask for an emergency power of attorney for yourself.")}
        )

    with transaction.atomic(durable=True):
        # Serialise requests for the same citizen, so two cannot both pass the checks below.
        User.objects.select_for_update(of=("self",)).filter(pk=citizen.pk).first()
        earlier = EmergencyRequest.objects.filter(relative=acting_user, citizen=citizen)
        if earlier.filter(
            Q(status__in=[EmergencyStatus.AWAITING_FIRST, EmergencyStatus.AWAITING_SECOND])
            | Q(power_of_attorney__in=PowerOfAttorney.objects.in_force())
        ).exists():
            raise Conflict(
                _("An emergency power of attorney for this person is already asked for or in force."),
                code="emergency_open",
            )
        since = timezone.now() - datetime.timedelta(days=EMERGENCY_REPEAT_DAYS)
        if (
            not repeat_reason
            and earlier.filter(status=EmergencyStatus.APPROVED, created_at__gte=since).exists()
        ):
            raise Invalid(
                {
                    "repeat_reason": _(
                        "You had an emergency power of attorney for this person less than %(days)d days ago. "
                        "Say why another one is needed."
                    )
                    % {"days": EMERGENCY_REPEAT_DAYS}
                }
            )
        emergency = EmergencyRequest.objects.create(
            relative=acting_user, citizen=citizen, reason=reason, repeat_reason=repeat_reason, days=days
        )
        emergency.rights.set(rights)
        record_event(
            action="emergency.requested",
            actor=acting_user,
            principal=citizen,
            target=emergency,
            details={"rights": sorted(r.code for r in rights), "days": days},
        )
    return emergency


def _may_approve_emergency(user: User, emergency: EmergencyRequest) -> bool:
    return (
        user.is_active
        and user.has_perm("attorney.approve_emergencyrequest")
        and user.pk not in (emergency.relative_id, emergency.citizen_id)
    )


def _lock_undecided_emergency(emergency_request: EmergencyRequest, acting_user: User) -> EmergencyRequest:
    """Lock a request not yet decided; only a caseworker who may approve, and is not a party, decides."""
    emergency = EmergencyRequest.objects.select_for_update().get(pk=emergency_request.pk)
    if not _may_approve_emergency(acting_user, emergency):
        raise NotAllowed(_("You may not decide on this emergency power of attorney."))
    if emergency.status not in (EmergencyStatus.AWAITING_FIRST, EmergencyStatus.AWAITING_SECOND):
        raise Conflict(_("This request has already been decided."), code="transition")
    return emergency


def approve_emergency_request(*, emergency_request: EmergencyRequest, acting_user: User) -> EmergencyRequest:
    """Four eyes: the first caseworker's approval changes nothing for the citizen; the second, by a
    different caseworker, puts the emergency power of attorney in force at once for its days.

    Only caseworkers with the permission to approve, never a party. The citizen is told at once by
    notice and email (and can revoke it like any power of attorney); the relative too.
    """
    with transaction.atomic(durable=True):
        emergency = _lock_undecided_emergency(emergency_request, acting_user)
        now = timezone.now()
        if emergency.status == EmergencyStatus.AWAITING_FIRST:
            emergency.status = EmergencyStatus.AWAITING_SECOND
            emergency.first_approved_by, emergency.first_approved_at = acting_user, now
            emergency.save(update_fields=["status", "first_approved_by", "first_approved_at"])
            record_event(
                action="emergency.first_approval",
                actor=acting_user,
                principal=emergency.citizen,
                target=emergency,
            )
            return emergency
        if emergency.first_approved_by_id == acting_user.pk:
            raise NotAllowed(_("A second caseworker must approve: you gave the first approval."))
        mandate = _create(
            grantor=emergency.citizen,
            attorney=emergency.relative,
            invitee_national_id="",
            invitee_name="",
            rights=list(emergency.rights.all()),
            valid_from=now,
            valid_until=now + datetime.timedelta(days=emergency.days),
            created_by=acting_user,
            basis=Basis.EMERGENCY,
            replaces=None,
            registered_by=acting_user,
        )
        _activate(mandate, by=acting_user)
        emergency.status = EmergencyStatus.APPROVED
        emergency.second_approved_by, emergency.second_approved_at = acting_user, now
        emergency.power_of_attorney = mandate
        emergency.save(
            update_fields=["status", "second_approved_by", "second_approved_at", "power_of_attorney"]
        )
        record_event(
            action="emergency.approved",
            actor=acting_user,
            principal=emergency.citizen,
            target=mandate,
            details={
                "first_approval_by": emergency.first_approved_by_id,
                "attorney": emergency.relative_id,
                "rights": sorted(r.code for r in mandate.rights.all()),
                "valid_until": mandate.valid_until.isoformat(),
            },
        )
        _notify_parties(mandate, "emergency")
    return emergency


def refuse_emergency_request(
    *, emergency_request: EmergencyRequest, acting_user: User, reason: str
) -> EmergencyRequest:
    """One caseworker who may approve can refuse an open request, with a reason the relative is told."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": _("Give the reason for refusing.")})
    with transaction.atomic(durable=True):
        emergency = _lock_undecided_emergency(emergency_request, acting_user)
        emergency.status = EmergencyStatus.REFUSED
        emergency.refused_by, emergency.refusal_reason = acting_user, reason
        emergency.save(update_fields=["status", "refused_by", "refusal_reason"])
        record_event(
            action="emergency.refused",
            actor=acting_user,
            principal=emergency.citizen,
            target=emergency,
            details={"reason": reason},
        )
        notify(
            recipient=emergency.relative,
            event_key=f"emergency:{emergency.pk}:refused",
            template="attorney/email/emergency_refused",
            context={"emergency": emergency},
            params={"name": emergency.citizen.name},
            link=reverse("attorney:act_for"),
        )
    return emergency


def answer_emergency_notice(*, emergency_request: EmergencyRequest, acting_user: User) -> None:
    """The citizen has seen the question whether to replace an emergency power of attorney; it is
    asked once."""
    if acting_user.pk != emergency_request.citizen_id:
        raise NotAllowed(_("This emergency power of attorney is not about you."))
    with transaction.atomic(durable=True):
        EmergencyRequest.objects.filter(pk=emergency_request.pk, citizen_answered_at__isnull=True).update(
            citizen_answered_at=timezone.now()
        )
