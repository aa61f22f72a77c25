import datetime
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import record_event
from portal.models import User

from .models import (
    ApiClient,
    Application,
    ApplicationStatus,
    ApplicationValueKind,
    Authority,
    CitizenFile,
    Letter,
    LetterRead,
    Right,
    Service,
    permission_codename_for,
)
from .validators import validate_pdf


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
