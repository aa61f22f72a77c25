"""Every change to an organisation and its members happens here.

A caseworker registers an organisation and names its first administrator; administrators invite
people by email, change roles and end memberships; a person joins by the invitation's link while
logged in with a verified identity. Which powers of attorney a member may use is decided in
``attorney.services`` (the mandates live there); when a membership ends, ``membership_ended`` tells
it to take the member's access away in the same transaction.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import record_event
from portal.cpr import normalize_cpr
from portal.errors import Conflict, Invalid, NotAllowed
from portal.identity import require_verified_identity
from portal.models import User
from portal.notifications import email_address, notify

from .cvr import normalize_cvr
from .models import Membership, Organisation, Role
from .signals import membership_ended

#: How long an invitation's link works.
INVITATION_DAYS = 14


def hash_invitation(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def _name(value: str, field: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise Invalid({field: _("Enter a name.")})
    return name


def _email(value: str) -> str:
    address = (value or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise Invalid({"email": _("Enter a valid email address.")}) from None
    return address


def _audit(action: str, organisation: Organisation, acting_user: User | None, **details) -> None:
    record_event(
        action=f"organisation.{action}",
        actor=acting_user,
        target=organisation,
        details={"organisation": organisation.pk, "cvr": organisation.cvr, **details},
    )


def _invite(
    *,
    organisation: Organisation,
    acting_user: User,
    name: str,
    email: str,
    role: str,
    national_id: str = "",
) -> tuple[Membership, str]:
    """Create the invitation and queue its email, inside the caller's transaction; returns the
    membership and the invitation's code (the email carries it in a link; it is stored hashed)."""
    if role not in Role.values:
        raise Invalid({"role": _("Choose a role.")})
    code = secrets.token_urlsafe(24)
    membership = Membership.objects.create(
        organisation=organisation,
        role=role,
        invited_name=name,
        invited_email=email,
        invited_national_id=national_id,
        invitation_hash=hash_invitation(code),
        invited_by=acting_user,
        invitation_expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
    )
    _audit("member_invited", organisation, acting_user, membership=str(membership.pk), role=role)
    email_address(
        address=email,
        event_key=f"organisation:{membership.pk}:invited",
        template="organisations/email/invitation",
        context={
            "organisation_name": organisation.name,
            "name": name,
            "role": membership.get_role_display(),
            "invited_by": acting_user.name,
            "link": settings.PORTAL_BASE_URL + reverse("organisations:join", args=[code]),
            "days": INVITATION_DAYS,
        },
    )
    return membership, code


def register_organisation(
    *,
    acting_user: User,
    cvr: str,
    name: str,
    administrator_national_id: str,
    administrator_name: str,
    administrator_email: str,
) -> tuple[Organisation, str]:
    """A caseworker who has checked the company in the CVR register registers it, and invites its
    first administrator: only the person with that CPR number can take the invitation.

    Returns the organisation and the invitation's code (also sent by email)."""
    if not acting_user.has_perm("organisations.add_organisation"):
        raise NotAllowed(_("Only a caseworker can register an organisation."))
    try:
        cvr = normalize_cvr(cvr)
    except ValidationError as error:
        raise Invalid({"cvr": error.messages}) from None
    try:
        national_id = normalize_cpr(administrator_national_id)
    except ValidationError as error:
        raise Invalid({"administrator_national_id": error.messages}) from None
    name = _name(name, "name")
    administrator_name = _name(administrator_name, "administrator_name")
    email = _email(administrator_email)
    with transaction.atomic(durable=True):
        if Organisation.objects.select_for_update().filter(cvr=cvr).exists():
            raise Conflict({"cvr": _("An organisation with this CVR number is already registered.")})
        organisation = Organisation.objects.create(cvr=cvr, name=name, registered_by=acting_user)
        _audit("registered", organisation, acting_user)
        _membership, code = _invite(
            organisation=organisation,
            acting_user=acting_user,
            name=administrator_name,
            email=email,
            role=Role.ADMINISTRATOR,
            national_id=national_id,
        )
    return organisation, code


def _require_administrator(acting_user: User, organisation: Organisation) -> Membership:
    require_verified_identity(acting_user)
    membership = (
        Membership.objects.current()
        .filter(organisation=organisation, user=acting_user, role=Role.ADMINISTRATOR)
        .first()
    )
    if membership is None:
        raise NotAllowed(_("Only an administrator of the organisation can do this."))
    return membership


def invite_member(
    *, acting_user: User, organisation: Organisation, name: str, email: str, role: str = Role.EMPLOYEE
) -> tuple[Membership, str]:
    """An administrator invites a person by email to join as employee or administrator. Whoever
    follows the link, logged in with a verified identity, joins; they get no access to the
    organisation's powers of attorney until an administrator gives it."""
    name = _name(name, "name")
    email = _email(email)
    with transaction.atomic(durable=True):
        _require_administrator(acting_user, organisation)
        return _invite(organisation=organisation, acting_user=acting_user, name=name, email=email, role=role)


def invitation_by_code(code: str) -> Membership | None:
    return (
        Membership.objects.select_related("organisation", "invited_by")
        .filter(invitation_hash=hash_invitation(code or ""))
        .first()
    )


def join_organisation(*, acting_user: User, code: str) -> Membership:
    """The invited person joins with the invitation's code. The invitation must still be open
    (not used, withdrawn or past its date), an invitation bound to a CPR number can be used only by
    that person, and nobody holds two places in one organisation."""
    require_verified_identity(acting_user)
    with transaction.atomic(durable=True):
        membership = (
            Membership.objects.select_for_update().filter(invitation_hash=hash_invitation(code or "")).first()
        )
        if membership is None or not membership.invitation_is_open:
            raise Conflict(_("This invitation is no longer valid. Ask the organisation for a new one."))
        if membership.invited_national_id and membership.invited_national_id != acting_user.national_id:
            raise NotAllowed(_("This invitation is for another person."))
        if (
            Membership.objects.current()
            .filter(organisation=membership.organisation, user=acting_user)
            .exists()
        ):
            raise Conflict(_("You are already a member of this organisation."))
        membership.user = acting_user
        membership.joined_at = timezone.now()
        membership.save(update_fields=["user", "joined_at"])
        _audit("member_joined", membership.organisation, acting_user, membership=str(membership.pk))
        for administrator in _administrators(membership.organisation, besides=acting_user):
            _tell(administrator, membership, "joined")
    return membership


def _administrators(organisation: Organisation, *, besides: User | None = None) -> list[User]:
    members = Membership.objects.current().filter(organisation=organisation, role=Role.ADMINISTRATOR)
    return [m.user for m in members.select_related("user") if besides is None or m.user_id != besides.pk]


def _tell(recipient: User, membership: Membership, event: str) -> None:
    notify(
        recipient=recipient,
        event_key=f"organisation:{membership.pk}:{event}",
        template="organisations/email/member",
        context={},
        params={"event": event, "o": membership.organisation.name, "m": membership.invited_name},
        link=reverse("organisations:detail", args=[membership.organisation_id]),
    )


def _lock_member(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("organisation", "user")
        .get(pk=membership.pk)
    )


def _keeps_an_administrator(membership: Membership) -> None:
    if membership.is_administrator and membership.has_joined:
        others = (
            Membership.objects.current()
            .filter(organisation=membership.organisation, role=Role.ADMINISTRATOR)
            .exclude(pk=membership.pk)
        )
        if not others.exists():
            raise Conflict(
                _(
                    "An organisation must keep at least one administrator. Make someone else administrator first."
                )
            )


def end_membership(*, acting_user: User, membership: Membership) -> Membership:
    """An administrator removes a member (or withdraws an invitation), or a member leaves. From
    that moment the person acts for none of the organisation's clients. The last administrator
    cannot leave."""
    with transaction.atomic(durable=True):
        membership = _lock_member(membership)
        if membership.user_id != acting_user.pk:
            _require_administrator(acting_user, membership.organisation)
        if membership.has_left:
            raise Conflict(_("This membership has already ended."))
        _keeps_an_administrator(membership)
        membership.left_at = timezone.now()
        membership.removed_by = acting_user
        membership.save(update_fields=["left_at", "removed_by"])
        _audit("member_left", membership.organisation, acting_user, membership=str(membership.pk))
        membership_ended.send(sender=Membership, membership=membership, acting_user=acting_user)
        if membership.user is not None and membership.user_id != acting_user.pk:
            _tell(membership.user, membership, "removed")
    return membership


def change_role(*, acting_user: User, membership: Membership, role: str) -> Membership:
    """An administrator makes a member administrator or employee; the last administrator stays one."""
    if role not in Role.values:
        raise Invalid({"role": _("Choose a role.")})
    with transaction.atomic(durable=True):
        membership = _lock_member(membership)
        _require_administrator(acting_user, membership.organisation)
        if membership.has_left:
            raise Conflict(_("This membership has already ended."))
        if membership.role == role:
            return membership
        if role == Role.EMPLOYEE:
            _keeps_an_administrator(membership)
        membership.role = role
        membership.save(update_fields=["role"])
        _audit(
            "member_role_changed",
            membership.organisation,
            acting_user,
            membership=str(membership.pk),
            role=role,
        )
    return membership
