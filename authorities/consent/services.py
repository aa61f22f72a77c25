import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.catalogue.models import Authority, Right
from authorities.consent.models import (
    Consent,
    ConsentRequest,
    ConsentRequestStatus,
    ConsentStatus,
    DataCategory,
)
from authorities.events.models import AuthorityEvent
from authorities.events.services import record_authority_event
from portal.audit import record_event
from portal.errors import Conflict, Invalid, NotAllowed
from portal.models import User
from portal.notifications import notify

CONSENT_RIGHT = "consent"


CONSENT_REMINDER_DAYS = 7


def request_consent(
    *,
    authority: Authority,
    citizen_national_id: str,
    category: DataCategory,
    purpose_da: str,
    purpose_en: str,
    days: int,
) -> ConsentRequest:
    """An authority asks a citizen for consent to use one category of data for a stated purpose.

    The period may not exceed what the category allows. The request is held by CPR number, so
    asking someone who is not (yet) in the portal looks exactly like asking someone who is.
    """
    errors = {}
    if not purpose_da.strip():
        errors["purpose_da"] = [_("Explain the purpose in Danish.")]
    if not purpose_en.strip():
        errors["purpose_en"] = [_("Explain the purpose in English.")]
    if days < 1 or days > category.max_days:
        errors["days"] = [
            _("The period must be between 1 and %(max)d days for this data.") % {"max": category.max_days}
        ]
    if errors:
        raise Invalid(errors)
    with transaction.atomic(durable=True):
        consent_request = ConsentRequest.objects.create(
            authority=authority,
            citizen_national_id=citizen_national_id,
            category=category,
            purpose_da=purpose_da.strip(),
            purpose_en=purpose_en.strip(),
            days=days,
        )
        citizen = User.objects.with_verified_cpr(citizen_national_id).filter(is_active=True).first()
        record_event(
            action="consent.requested",
            actor=None,
            principal=citizen,
            authority=authority,
            target=consent_request,
            details={"category": category.code, "days": days},
        )
        if citizen is not None:
            notify(
                recipient=citizen,
                event_key=f"consent-request:{consent_request.pk}:created",
                template="authorities/email/consent",
                context={"consent_request": consent_request},
                params={"event": "requested", "who": {"da": authority.name_da, "en": authority.name_en}},
                link=reverse("authorities:consents"),
            )
    return consent_request


def _consent_changed(
    *,
    type: str,
    consent_request: ConsentRequest,
    consent: Consent | None,
    acting_user: User | None,
    principal: User,
) -> None:
    """Every change to a consent is told to the authority that asked and written to the audit trail."""
    emit_consent_event(consent_request=consent_request, consent=consent, type=type)
    record_event(
        action=f"consent.{type}",
        actor=acting_user,
        principal=principal,
        authority=consent_request.authority,
        target=consent or consent_request,
        details={"category": consent_request.category.code},
    )


def _consent_right(authority: Authority) -> Right | None:
    return (
        Right.objects.select_related("service__authority")
        .filter(code=f"{authority.slug}.{CONSENT_RIGHT}")
        .first()
    )


def _may_answer_consent(*, acting_user: User, principal: User, authority: Authority) -> bool:
    from attorney.policy import can_act_for

    if not acting_user.is_identity_verified:
        return False
    if acting_user.pk == principal.pk:
        return True
    right = _consent_right(authority)
    return right is not None and can_act_for(acting_user, principal, right)


def _answer_consent_request(
    consent_request: ConsentRequest, *, acting_user: User, principal: User, status: str
) -> ConsentRequest:
    """Lock an open request addressed to the principal and record the answer; the caller's
    transaction holds the lock until its consequences are written."""
    if not _may_answer_consent(
        acting_user=acting_user, principal=principal, authority=consent_request.authority
    ):
        raise NotAllowed(_("Your power of attorney does not let you answer consent requests here."))
    locked = (
        ConsentRequest.objects.select_for_update()
        .select_related("authority", "category")
        .get(pk=consent_request.pk)
    )
    if not principal.is_identity_verified or locked.citizen_national_id != principal.national_id:
        raise NotAllowed(_("This request is not addressed to this person."))
    if locked.status != ConsentRequestStatus.PENDING:
        raise Conflict(_("This request has already been answered."), code="transition")
    locked.status = status
    locked.answered_at, locked.answered_by = timezone.now(), acting_user
    locked.save(update_fields=["status", "answered_at", "answered_by"])
    return locked


def grant_consent(*, consent_request: ConsentRequest, acting_user: User, principal: User) -> Consent:
    """The citizen (or an attorney holding ``<authority>.consent``) gives the consent asked for."""
    with transaction.atomic(durable=True):
        locked = _answer_consent_request(
            consent_request, acting_user=acting_user, principal=principal, status=ConsentRequestStatus.GRANTED
        )
        consent = Consent.objects.create(
            request=locked,
            authority=locked.authority,
            citizen=principal,
            category=locked.category,
            given_by=acting_user,
            valid_from=locked.answered_at,
            valid_until=locked.answered_at + datetime.timedelta(days=locked.days),
        )
        _consent_changed(
            type="granted",
            consent_request=locked,
            consent=consent,
            acting_user=acting_user,
            principal=principal,
        )
    return consent


def refuse_consent(*, consent_request: ConsentRequest, acting_user: User, principal: User) -> ConsentRequest:
    """The citizen (or an attorney holding ``<authority>.consent``) says no; nothing may be used."""
    with transaction.atomic(durable=True):
        locked = _answer_consent_request(
            consent_request, acting_user=acting_user, principal=principal, status=ConsentRequestStatus.REFUSED
        )
        _consent_changed(
            type="refused", consent_request=locked, consent=None, acting_user=acting_user, principal=principal
        )
    return locked


def withdraw_consent(*, consent: Consent, acting_user: User, principal: User) -> Consent:
    """A consent can be withdrawn at any time and stops counting at once."""
    if consent.citizen_id != principal.pk or not _may_answer_consent(
        acting_user=acting_user, principal=principal, authority=consent.authority
    ):
        raise NotAllowed(_("You cannot withdraw this consent."))
    with transaction.atomic(durable=True):
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != ConsentStatus.GRANTED:
            raise Conflict(_("This consent has already ended."), code="transition")
        locked.status = ConsentStatus.WITHDRAWN
        locked.ended_at, locked.ended_by = timezone.now(), acting_user
        locked.save(update_fields=["status", "ended_at", "ended_by"])
        _consent_changed(
            type="withdrawn",
            consent_request=locked.request,
            consent=locked,
            acting_user=acting_user,
            principal=principal,
        )
    return locked


def expire_due_consents(*, now: datetime.datetime | None = None) -> int:
    """End consents whose period is over, in one set-based update. The check already said no at valid_until."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = list(
            Consent.objects.select_for_update(of=("self",))
            .filter(status=ConsentStatus.GRANTED, valid_until__lte=now)
            .select_related("authority", "citizen", "category", "request__category")
        )
        Consent.objects.filter(pk__in=[c.pk for c in due]).update(status=ConsentStatus.EXPIRED, ended_at=now)
        for consent in due:
            _consent_changed(
                type="expired",
                consent_request=consent.request,
                consent=consent,
                acting_user=None,
                principal=consent.citizen,
            )
    return len(due)


def send_consent_reminders(*, now: datetime.datetime | None = None) -> int:
    """Tell the citizen once, some days before a consent runs out."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=CONSENT_REMINDER_DAYS)
    with transaction.atomic(durable=True):
        due = list(
            Consent.objects.select_for_update(of=("self",))
            .filter(
                status=ConsentStatus.GRANTED,
                reminder_sent_at__isnull=True,
                valid_until__gt=now,
                valid_until__lte=horizon,
            )
            .select_related("authority", "citizen", "category")
        )
        Consent.objects.filter(pk__in=[c.pk for c in due]).update(reminder_sent_at=now)
        for consent in due:
            notify(
                recipient=consent.citizen,
                event_key=f"consent:{consent.pk}:reminder",
                template="authorities/email/consent",
                context={"consent": consent, "consent_request": consent.request},
                params={
                    "event": "reminder",
                    "who": {"da": consent.authority.name_da, "en": consent.authority.name_en},
                },
                link=reverse("authorities:consents"),
            )
    return len(due)


def emit_consent_event(
    *, consent_request: ConsentRequest, consent: Consent | None, type: str
) -> AuthorityEvent:
    """Tell the authority that asked for a consent what became of it."""
    payload = {
        "consent_request": str(consent_request.pk),
        "consent": str(consent.pk) if consent else None,
        "citizen": consent_request.citizen_national_id,
        "category": consent_request.category.code,
        "valid_until": consent.valid_until.isoformat() if consent else None,
    }
    return record_authority_event(
        authority_id=consent_request.authority_id, type=f"consent.{type}", payload=payload
    )
