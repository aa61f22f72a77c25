"""Who an account is: a CPR number counts only once it is verified.

A number typed at sign-up is a claim that proves nothing, and several unverified accounts may make
the same claim (a squatter must not lock the real person out). It becomes the account's identity
only by a MitID login whose assertion carries it, or by a caseworker who saw identity papers in
person. The moment one account is verified, every other account loses its claim to that number
and is told so. Only a verified account may act, be acted for, or learn of anything addressed to
its CPR number; ``verified_identity_required`` guards the pages, and the services check again.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import record_event
from .cpr import normalize_cpr
from .errors import NotAllowed
from .models import IdentityDocument, IdentityVerification, User
from .notifications import notify

#: Sent inside the transaction that verifies an account's CPR number, with ``user``. Floors above
#: that keep something by CPR number (the register of legal representatives) attach it to the account.
identity_verified = Signal()


class IdentityNotVerified(NotAllowed):
    """The account's CPR number is only claimed, so it may not do this."""


def require_verified_identity(user: User) -> None:
    """Services call this before anything with legal effect or anything addressed to a CPR number."""
    if not getattr(user, "is_identity_verified", False):
        raise IdentityNotVerified(_("Confirm who you are with MitID before you do this."))


def verified_identity_required(view):
    """A page for verified accounts only; an unverified one is told how to verify, and nothing else."""

    @wraps(view)
    def _wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_identity_verified:
            return render(request, "portal/identity.html", identity_page_context(request), status=403)
        return view(request, *args, **kwargs)

    return _wrapped


def identity_page_context(request: HttpRequest) -> dict:
    """What the page about one's identity needs: the MitID login, when the portal offers it."""
    from .eid import configured_provider

    provider = configured_provider(request)
    return {
        "mitid_login_url": provider.get_login_url(request) if provider else None,
        "hide_identity_banner": True,
    }


def _release_other_claims(owner: User) -> None:
    """Every other account that typed the owner's CPR number loses it, and is told plainly why."""
    claimants = list(
        User.objects.select_for_update(of=("self",))
        .filter(national_id=owner.national_id, identity_verified_at__isnull=True)
        .exclude(pk=owner.pk)
    )
    for claimant in claimants:
        claimant.national_id = None
        claimant.save(update_fields=["national_id"])
        record_event(action="identity.claim_removed", actor=None, principal=claimant)
        notify(
            recipient=claimant,
            event_key=f"identity:{owner.pk}:claim_removed",
            template="portal/email/claim_removed",
            context={},
            link="/konto/identitet/",
        )


def _mark_verified(user: User, *, method: str, caseworker: User | None = None, document: str = "") -> None:
    user.identity_verified_at = timezone.now()
    user.identity_verification = method
    user.identity_verified_by = caseworker
    user.identity_document = document
    user.save(
        update_fields=[
            "national_id",
            "name",
            "identity_verified_at",
            "identity_verification",
            "identity_verified_by",
            "identity_document",
        ]
    )
    identity_verified.send(sender=User, user=user)


def verify_identity_with_eid(*, acting_user: User, national_id: str, name: str) -> User:
    """A MitID login asserted this CPR number and name for the person using ``acting_user``.

    The account takes the number and the name from the register; an account that had typed
    another number had it wrong. Refused if another account is already verified with it (MitID
    then logs into that account instead, see ``portal.adapters``).
    """
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update(of=("self",)).get(pk=acting_user.pk)
        if user.is_identity_verified and user.national_id == national_id:
            if user.name != name:
                user.name = name
                user.save(update_fields=["name"])
            return user
        if User.objects.with_verified_cpr(national_id).exclude(pk=user.pk).exists():
            raise ValidationError(_("Another account is already verified with this CPR number."))
        user.national_id, user.name = national_id, name
        _mark_verified(user, method=IdentityVerification.MITID)
        _release_other_claims(user)
        record_event(action="identity.verified", actor=user, principal=user, details={"method": "mitid"})
    return user


def verify_identity_in_person(
    *, acting_user: User, user: User, national_id: str, name: str, document: str
) -> User:
    """A caseworker at a citizen service desk saw the person's identity papers.

    The caseworker types the CPR number and name from the papers; the account takes them. Only
    caseworkers with the ``portal.verify_identity`` permission may do this, never for themselves,
    and a number already verified for another account is refused. Who, when and which kind of
    document are stored and audited; the document's own number is not.
    """
    if not acting_user.has_perm("portal.verify_identity") or acting_user.pk == user.pk:
        raise NotAllowed(_("You may not verify this person's identity."))
    if document not in IdentityDocument.values:
        raise ValidationError({"document": _("Choose the kind of identity document you saw.")})
    try:
        cpr = normalize_cpr(national_id)
    except ValidationError as error:
        raise ValidationError({"national_id": error.messages}) from None
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Enter the name as it stands on the identity document.")})
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
        if User.objects.with_verified_cpr(cpr).exclude(pk=locked.pk).exists():
            raise ValidationError(
                {"national_id": _("Another account is already verified with this CPR number.")}
            )
        locked.national_id, locked.name = cpr, name
        _mark_verified(
            locked, method=IdentityVerification.IN_PERSON, caseworker=acting_user, document=document
        )
        _release_other_claims(locked)
        record_event(
            action="identity.verified",
            actor=acting_user,
            principal=locked,
            details={"method": "in_person", "document": document},
        )
    return locked
