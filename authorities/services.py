import datetime
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import record_event
from portal.models import User
from portal.notifications import notify

from .models import (
    ApiClient,
    Application,
    ApplicationStatus,
    ApplicationValueKind,
    Authority,
    CitizenFile,
    Consent,
    ConsentRequest,
    ConsentRequestStatus,
    ConsentStatus,
    DataCategory,
    Letter,
    LetterRead,
    Right,
    Service,
    permission_codename_for,
)
from .validators import validate_pdf

CONSENT_RIGHT = "consent"
CONSENT_REMINDER_DAYS = 7


def ensure_right_permission(*, right: Right) -> Permission:
    """Each right has exactly one permission on CitizenFile, named after the right's code."""
    content_type = ContentType.objects.get_for_model(CitizenFile)
    permission, _ = Permission.objects.update_or_create(
        content_type=content_type,
        codename=permission_codename_for(right.code),
        defaults={"name": f"Right {right.code}"[:255]},
    )
    if right.permission_id != permission.pk:
        Right.objects.filter(pk=right.pk).update(permission=permission)
        right.permission = permission
    return permission


def get_or_create_citizen_file(*, citizen: User, authority: Authority) -> CitizenFile:
    """A citizen's file at an authority is created the first time something needs it."""
    with transaction.atomic():
        citizen_file, _ = CitizenFile.objects.get_or_create(citizen=citizen, authority=authority)
    return citizen_file


def send_letter(
    *,
    authority: Authority,
    citizen: User,
    subject: str,
    body: str,
    attachment=None,
    attachment_name: str = "",
) -> Letter:
    """An authority sends a letter; it lands on the citizen's file there, so existing grants cover it."""
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ValidationError(_("A letter needs a subject and a text."))
    if attachment is not None:
        validate_pdf(attachment)
    with transaction.atomic():
        citizen_file = get_or_create_citizen_file(citizen=citizen, authority=authority)
        letter = Letter(citizen_file=citizen_file, subject=subject, body=body)
        if attachment is not None:
            letter.attachment_name = (attachment_name or getattr(attachment, "name", "") or "bilag.pdf")[:200]
            letter.attachment.save(f"{letter.pk}.pdf", attachment, save=False)
        letter.save()
        record_event(action="letter.sent", actor=None, principal=citizen, authority=authority, target=letter)
    return letter


def mark_letter_read(*, letter: Letter, reader: User, on_behalf_of: User) -> None:
    """The first time a person opens a letter it is read by them (for the citizen, if acting)."""
    with transaction.atomic():
        _, created = LetterRead.objects.get_or_create(
            letter=letter, reader=reader, defaults={"on_behalf_of": on_behalf_of}
        )
        if created and reader.pk != on_behalf_of.pk:
            record_event(
                action="letter.read",
                actor=reader,
                principal=on_behalf_of,
                authority=letter.citizen_file.authority,
                target=letter,
                details={"subject": letter.subject},
            )


def record_attachment_download(*, letter: Letter, reader: User, on_behalf_of: User) -> None:
    if reader.pk != on_behalf_of.pk:
        record_event(
            action="letter.attachment_downloaded",
            actor=reader,
            principal=on_behalf_of,
            authority=letter.citizen_file.authority,
            target=letter,
        )


def submit_application(
    *,
    actor: User,
    principal: User,
    service: Service,
    description: str,
    amount: Decimal | None = None,
    date_value: datetime.date | None = None,
    attachment=None,
) -> Application:
    """Submit an application to a service, for oneself or for the principal within the mandate.

    The actor must hold the service's application right for the principal right now; a forged
    request for another service or another citizen is refused and saves nothing.
    """
    from attorney.selectors import can_act_for

    form = getattr(service, "application_form", None)
    if form is None:
        raise ValidationError(_("This service does not take applications here."))
    if not can_act_for(actor, principal, form.right):
        raise PermissionDenied(_("You may not apply to this service for this person."))
    description = (description or "").strip()
    errors = {}
    if not description:
        errors["description"] = _("Describe what you apply for.")
    if form.value_kind == ApplicationValueKind.AMOUNT:
        if amount is None:
            errors["amount"] = _("Enter an amount.")
        elif not form.amount_min <= amount <= form.amount_max:
            errors["amount"] = _("The amount must be between %(low)s and %(high)s kroner.") % {
                "low": form.amount_min,
                "high": form.amount_max,
            }
    if form.value_kind == ApplicationValueKind.DATE and date_value is None:
        errors["date_value"] = _("Enter a date.")
    if attachment is not None:
        try:
            validate_pdf(attachment)
        except ValidationError as error:
            errors["attachment"] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        citizen_file = get_or_create_citizen_file(citizen=principal, authority=service.authority)
        application = Application(
            service=service,
            citizen_file=citizen_file,
            submitted_by=actor,
            on_behalf_of=principal,
            description=description,
            amount=amount if form.value_kind == ApplicationValueKind.AMOUNT else None,
            date_value=date_value if form.value_kind == ApplicationValueKind.DATE else None,
        )
        if attachment is not None:
            application.attachment.save(f"{application.pk}.pdf", attachment, save=False)
        application.save()
        record_event(
            action="application.submitted",
            actor=actor,
            principal=principal,
            authority=service.authority,
            target=application,
            details={"service": service.slug},
        )
    return application


APPLICATION_TRANSITIONS = {
    ApplicationStatus.SUBMITTED: {
        ApplicationStatus.IN_REVIEW,
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
    },
    ApplicationStatus.IN_REVIEW: {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED},
}


def decide_application(
    *, application: Application, by: User | None, status: str, decision_text: str = ""
) -> Application:
    """The authority moves an application on; a decision is final."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if status not in APPLICATION_TRANSITIONS.get(locked.status, set()):
            raise ValidationError(
                _("The application cannot move from %(old)s to %(new)s.")
                % {
                    "old": locked.get_status_display(),
                    "new": ApplicationStatus(status).label,
                }
            )
        if status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
            if not decision_text.strip():
                raise ValidationError({"decision_text": _("Write the decision.")})
            locked.decided_at = timezone.now()
        locked.status = status
        locked.decision_text = decision_text.strip()
        locked.save(update_fields=["status", "decision_text", "decided_at"])
        # The authority acts on its own account here, not on the citizen's behalf.
        record_event(
            action=f"application.{status}",
            actor=by,
            authority=locked.service.authority,
            target=locked,
            details={"citizen": locked.on_behalf_of_id},
        )
    return locked


def create_api_client(*, authority: Authority, name: str) -> tuple[ApiClient, str]:
    """A new client gets a random token; only its hash is kept, so it can be shown only once."""
    from .api.authentication import hash_token, new_token

    token = new_token()
    with transaction.atomic():
        client = ApiClient.objects.create(
            authority=authority,
            name=name.strip() or "API client",
            token_prefix=token[:12],
            token_hash=hash_token(token),
        )
        record_event(action="api_client.created", actor=None, authority=authority, target=client)
    return client, token


def revoke_api_client(*, client: ApiClient, by: User | None) -> ApiClient:
    """A revoked token stops working at its next request."""
    with transaction.atomic():
        updated = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            record_event(action="api_client.revoked", actor=by, authority=client.authority, target=client)
    client.refresh_from_db()
    return client


# --- Consent for data use --------------------------------------------------------------------


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
        raise ValidationError(errors)
    with transaction.atomic():
        consent_request = ConsentRequest.objects.create(
            authority=authority,
            citizen_national_id=citizen_national_id,
            category=category,
            purpose_da=purpose_da.strip(),
            purpose_en=purpose_en.strip(),
            days=days,
        )
        citizen = User.objects.filter(national_id=citizen_national_id, is_active=True).first()
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
                context={"consent_request": consent_request, "event": "requested"},
                link=reverse("authorities:consents"),
            )
    return consent_request


def _consent_right(authority: Authority) -> Right | None:
    return (
        Right.objects.select_related("service__authority")
        .filter(code=f"{authority.slug}.{CONSENT_RIGHT}")
        .first()
    )


def _may_answer_consent(*, actor: User, principal: User, authority: Authority) -> bool:
    from attorney.selectors import can_act_for

    if actor.pk == principal.pk:
        return True
    right = _consent_right(authority)
    return right is not None and can_act_for(actor, principal, right)


def _lock_open_consent_request(consent_request: ConsentRequest, principal: User) -> ConsentRequest:
    locked = (
        ConsentRequest.objects.select_for_update()
        .select_related("authority", "category")
        .get(pk=consent_request.pk)
    )
    if not principal.national_id or locked.citizen_national_id != principal.national_id:
        raise PermissionDenied(_("This request is not addressed to this person."))
    if locked.status != ConsentRequestStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    return locked


def grant_consent(*, consent_request: ConsentRequest, actor: User, principal: User) -> Consent:
    """The citizen (or an attorney holding ``<authority>.consent``) gives the consent asked for."""
    if not _may_answer_consent(actor=actor, principal=principal, authority=consent_request.authority):
        raise PermissionDenied(_("Your power of attorney does not let you answer consent requests here."))
    with transaction.atomic():
        locked = _lock_open_consent_request(consent_request, principal)
        now = timezone.now()
        locked.status = ConsentRequestStatus.GRANTED
        locked.answered_at, locked.answered_by = now, actor
        locked.save(update_fields=["status", "answered_at", "answered_by"])
        consent = Consent.objects.create(
            request=locked,
            authority=locked.authority,
            citizen=principal,
            category=locked.category,
            given_by=actor,
            valid_from=now,
            valid_until=now + datetime.timedelta(days=locked.days),
        )
        record_event(
            action="consent.granted",
            actor=actor,
            principal=principal,
            authority=locked.authority,
            target=consent,
            details={"category": locked.category.code},
        )
    return consent


def refuse_consent(*, consent_request: ConsentRequest, actor: User, principal: User) -> ConsentRequest:
    """The citizen (or an attorney holding ``<authority>.consent``) says no; nothing may be used."""
    if not _may_answer_consent(actor=actor, principal=principal, authority=consent_request.authority):
        raise PermissionDenied(_("Your power of attorney does not let you answer consent requests here."))
    with transaction.atomic():
        locked = _lock_open_consent_request(consent_request, principal)
        locked.status = ConsentRequestStatus.REFUSED
        locked.answered_at, locked.answered_by = timezone.now(), actor
        locked.save(update_fields=["status", "answered_at", "answered_by"])
        record_event(
            action="consent.refused",
            actor=actor,
            principal=principal,
            authority=locked.authority,
            target=locked,
            details={"category": locked.category.code},
        )
    return locked


def withdraw_consent(*, consent: Consent, actor: User, principal: User) -> Consent:
    """A consent can be withdrawn at any time and stops counting at once."""
    if consent.citizen_id != principal.pk or not _may_answer_consent(
        actor=actor, principal=principal, authority=consent.authority
    ):
        raise PermissionDenied(_("You cannot withdraw this consent."))
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != ConsentStatus.GRANTED:
            raise ValidationError(_("This consent has already ended."))
        locked.status = ConsentStatus.WITHDRAWN
        locked.ended_at, locked.ended_by = timezone.now(), actor
        locked.save(update_fields=["status", "ended_at", "ended_by"])
        record_event(
            action="consent.withdrawn",
            actor=actor,
            principal=principal,
            authority=locked.authority,
            target=locked,
            details={"category": consent.category.code},
        )
    return locked


def expire_due_consents(*, now: datetime.datetime | None = None) -> int:
    """End consents whose period is over, in one set-based update. The check already said no at valid_until."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Consent.objects.select_for_update(of=("self",))
            .filter(status=ConsentStatus.GRANTED, valid_until__lte=now)
            .select_related("authority", "citizen", "category")
        )
        Consent.objects.filter(pk__in=[c.pk for c in due]).update(status=ConsentStatus.EXPIRED, ended_at=now)
        for consent in due:
            record_event(
                action="consent.expired",
                actor=None,
                principal=consent.citizen,
                authority=consent.authority,
                target=consent,
                details={"category": consent.category.code},
            )
    return len(due)


def send_consent_reminders(*, now: datetime.datetime | None = None) -> int:
    """Tell the citizen once, some days before a consent runs out."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=CONSENT_REMINDER_DAYS)
    with transaction.atomic():
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
                context={"consent": consent, "consent_request": consent.request, "event": "reminder"},
                link=reverse("authorities:consents"),
            )
    return len(due)
