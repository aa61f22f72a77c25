import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
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
    AuthorityEvent,
    AuthorityMembership,
    CitizenFile,
    Consent,
    ConsentRequest,
    ConsentRequestStatus,
    ConsentStatus,
    DataCategory,
    DeliveryStatus,
    Letter,
    LetterRead,
    Right,
    Service,
    WebhookDelivery,
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


def _forget_cached_client(client: ApiClient) -> None:
    """Drop the API's cached copy of the client, now and again once the change is committed."""
    from django.core.cache import cache

    from .api.authentication import client_cache_key

    key = client_cache_key(client.token_hash)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


def revoke_api_client(*, client: ApiClient, by: User | None) -> ApiClient:
    """A revoked token stops working at its next request."""
    with transaction.atomic():
        updated = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        _forget_cached_client(client)
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


def _consent_changed(
    *,
    type: str,
    consent_request: ConsentRequest,
    consent: Consent | None,
    actor: User | None,
    principal: User,
) -> None:
    """Every change to a consent is told to the authority that asked and written to the audit trail."""
    emit_consent_event(consent_request=consent_request, consent=consent, type=type)
    record_event(
        action=f"consent.{type}",
        actor=actor,
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


def _may_answer_consent(*, actor: User, principal: User, authority: Authority) -> bool:
    from attorney.selectors import can_act_for

    if actor.pk == principal.pk:
        return True
    right = _consent_right(authority)
    return right is not None and can_act_for(actor, principal, right)


def _answer_consent_request(
    consent_request: ConsentRequest, *, actor: User, principal: User, status: str
) -> ConsentRequest:
    """Lock an open request addressed to the principal and record the answer; the caller's
    transaction holds the lock until its consequences are written."""
    if not _may_answer_consent(actor=actor, principal=principal, authority=consent_request.authority):
        raise PermissionDenied(_("Your power of attorney does not let you answer consent requests here."))
    locked = (
        ConsentRequest.objects.select_for_update()
        .select_related("authority", "category")
        .get(pk=consent_request.pk)
    )
    if not principal.national_id or locked.citizen_national_id != principal.national_id:
        raise PermissionDenied(_("This request is not addressed to this person."))
    if locked.status != ConsentRequestStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    locked.status = status
    locked.answered_at, locked.answered_by = timezone.now(), actor
    locked.save(update_fields=["status", "answered_at", "answered_by"])
    return locked


def grant_consent(*, consent_request: ConsentRequest, actor: User, principal: User) -> Consent:
    """The citizen (or an attorney holding ``<authority>.consent``) gives the consent asked for."""
    with transaction.atomic():
        locked = _answer_consent_request(
            consent_request, actor=actor, principal=principal, status=ConsentRequestStatus.GRANTED
        )
        consent = Consent.objects.create(
            request=locked,
            authority=locked.authority,
            citizen=principal,
            category=locked.category,
            given_by=actor,
            valid_from=locked.answered_at,
            valid_until=locked.answered_at + datetime.timedelta(days=locked.days),
        )
        _consent_changed(
            type="granted", consent_request=locked, consent=consent, actor=actor, principal=principal
        )
    return consent


def refuse_consent(*, consent_request: ConsentRequest, actor: User, principal: User) -> ConsentRequest:
    """The citizen (or an attorney holding ``<authority>.consent``) says no; nothing may be used."""
    with transaction.atomic():
        locked = _answer_consent_request(
            consent_request, actor=actor, principal=principal, status=ConsentRequestStatus.REFUSED
        )
        _consent_changed(
            type="refused", consent_request=locked, consent=None, actor=actor, principal=principal
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
        _consent_changed(
            type="withdrawn", consent_request=locked.request, consent=locked, actor=actor, principal=principal
        )
    return locked


def expire_due_consents(*, now: datetime.datetime | None = None) -> int:
    """End consents whose period is over, in one set-based update. The check already said no at valid_until."""
    now = now or timezone.now()
    with transaction.atomic():
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
                actor=None,
                principal=consent.citizen,
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


# --- Caseworkers --------------------------------------------------------------------------------

CASEWORKER_GROUP = "Caseworkers"

# What a caseworker may do in the admin, as Django model permissions. Which records they may do it
# to is decided by their authority (authorities.selectors.in_caseworker_scope). The data migration
# portal/0003_caseworkers_group creates the group with exactly these; change both together.
CASEWORKER_PERMISSIONS = (
    ("authorities", "view_authority"),
    ("authorities", "view_service"),
    ("authorities", "view_right"),
    ("authorities", "view_citizenfile"),
    ("authorities", "view_letter"),
    ("authorities", "view_application"),
    ("authorities", "change_application"),
    ("attorney", "view_powerofattorney"),
    ("attorney", "add_powerofattorney"),
    ("attorney", "change_powerofattorney"),
    ("portal", "view_auditevent"),
    ("authorities", "view_datacategory"),
    ("authorities", "view_consentrequest"),
    ("authorities", "view_consent"),
    ("authorities", "view_authorityevent"),
    ("authorities", "view_webhookdelivery"),
)


def ensure_caseworker_group():
    """The caseworkers' group exists with exactly the caseworker permissions (safe to call again)."""
    from django.contrib.auth.models import Group

    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=CASEWORKER_GROUP)
        wanted = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in CASEWORKER_PERMISSIONS
        ]
        group.permissions.set(wanted)
    return group


def appoint_caseworker(*, user: User, authority: Authority, by: User) -> AuthorityMembership:
    """The service desk makes a person a caseworker at one authority (or moves them to another).

    A caseworker works for exactly one authority, is staff, and is in the caseworkers' group; MFA is
    enforced when they open the admin. Service-desk accounts (superusers) are not caseworkers.
    """
    if not by.is_superuser:
        raise PermissionDenied(_("Only the service desk can appoint caseworkers."))
    if user.is_superuser:
        raise ValidationError({"user": _("A service-desk account cannot also be a caseworker.")})
    with transaction.atomic():
        membership, created = AuthorityMembership.objects.update_or_create(
            user=user, defaults={"authority": authority}
        )
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(ensure_caseworker_group())
        record_event(
            action="caseworker.appointed",
            actor=by,
            authority=authority,
            target=membership,
            details={"caseworker": user.pk, "moved": not created},
        )
    return membership


def decide_application_as_caseworker(
    *, application: Application, caseworker: User, status: str, decision_text: str = ""
) -> Application:
    """A caseworker moves an application at their own authority on, and tells the citizen a decision.

    The caseworker must work for the authority the application was made to (the service desk may
    act at any). An approval or rejection is sent to the citizen as a letter on their file there, in
    their own language, so an attorney who reads their post sees it too. Decision and letter are
    one transaction: there is never a decision without its letter, nor a letter without a decision.
    """
    from django.utils import formats, translation

    from .selectors import is_in_caseworker_scope

    if not is_in_caseworker_scope(user=caseworker, record=application):
        raise PermissionDenied(_("This application was not made to your authority."))
    if status not in ApplicationStatus.values:
        raise ValidationError({"status": _("Choose a valid status.")})
    with transaction.atomic():
        decided = decide_application(
            application=application, by=caseworker, status=status, decision_text=decision_text
        )
        if decided.status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
            citizen = decided.citizen_file.citizen
            authority = decided.service.authority
            with translation.override(citizen.preferred_language or "da"):
                facts = {
                    "date": formats.date_format(timezone.localtime(decided.submitted_at), "DATE_FORMAT"),
                    "service": decided.service.name,
                }
                if decided.status == ApplicationStatus.APPROVED:
                    outcome = _("Your application of %(date)s to %(service)s has been approved.") % facts
                else:
                    outcome = _("Your application of %(date)s to %(service)s has been rejected.") % facts
                send_letter(
                    authority=authority,
                    citizen=citizen,
                    subject=(_("Decision on your application: %(service)s") % facts)[:300],
                    body=f"{outcome}\n\n{decided.decision_text}\n\n{authority.name}",
                )
    return decided


# --- Events for authorities (outbox, webhooks) ------------------------------------------------


def _authority_event(*, authority_id: int, type: str, payload: dict) -> AuthorityEvent:
    event = AuthorityEvent.objects.create(authority_id=authority_id, type=type, payload=payload)
    clients = ApiClient.objects.filter(authority_id=authority_id, revoked_at__isnull=True).exclude(
        webhook_url=""
    )
    for client in clients:
        delivery = WebhookDelivery.objects.create(event=event, client=client, url=client.webhook_url)
        transaction.on_commit(lambda pk=delivery.pk: _schedule_delivery(pk), robust=True)
    return event


def _schedule_delivery(delivery_id: int) -> None:
    from .tasks import deliver_webhook

    deliver_webhook.delay(delivery_id)


def emit_mandate_event(*, mandate, type: str) -> list[AuthorityEvent]:
    """Tell each authority whose rights a power of attorney includes that it changed.

    Written in the caller's transaction, so an event exists exactly when the change does; each
    authority sees only its own rights.
    """
    rights = list(mandate.rights.all())  # callers on hot paths prefetch rights__service
    by_authority: dict[int, list[str]] = {}
    for right in rights:
        by_authority.setdefault(right.service.authority_id, []).append(right.code)
    events = []
    for authority_id, codes in sorted(by_authority.items()):
        payload = {
            "power_of_attorney": str(mandate.pk),
            "principal": mandate.grantor.national_id,
            "attorney": mandate.attorney.national_id if mandate.attorney_id else None,
            "rights": sorted(codes),
            "status": mandate.status,
            "valid_from": mandate.valid_from.isoformat(),
            "valid_until": mandate.valid_until.isoformat(),
            "replaces": str(mandate.replaces_id) if mandate.replaces_id else None,
        }
        events.append(
            _authority_event(authority_id=authority_id, type=f"power_of_attorney.{type}", payload=payload)
        )
    return events


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
    return _authority_event(
        authority_id=consent_request.authority_id, type=f"consent.{type}", payload=payload
    )


def validate_webhook_url(url: str) -> str:
    """Webhooks go to https addresses on the public internet.

    Plain http is allowed only to this machine outside production (for development); in
    production an address that resolves to a private, loopback or otherwise internal network is
    refused, so the portal cannot be used to reach inside its own network.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError({"url": [_("Give a full https address.")]})
    local = host in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "http" and not (local and settings.WEBHOOK_ALLOW_PRIVATE_TARGETS):
        raise ValidationError({"url": [_("The address must use https.")]})
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _resolves_to_internal_address(host):
        raise ValidationError({"url": [_("The address points into a private network.")]})
    return parts.geturl()


def _resolves_to_internal_address(host: str) -> bool:
    import ipaddress
    import socket

    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return True
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return True
    return False


def register_webhook(*, client: ApiClient, url: str) -> tuple[ApiClient, str]:
    """Set a client's webhook address and give it a new signing secret, returned only now."""
    import base64
    import secrets

    url = validate_webhook_url(url)
    # A Standard Webhooks secret: "whsec_" and 32 random bytes in base64.
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(webhook_url=url, webhook_secret=secret)
        _forget_cached_client(client)
        record_event(
            action="api_client.webhook_registered", actor=None, authority=client.authority, target=client
        )
    client.refresh_from_db()
    return client, secret


def remove_webhook(*, client: ApiClient) -> None:
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(webhook_url="", webhook_secret="")
        _forget_cached_client(client)
        record_event(
            action="api_client.webhook_removed", actor=None, authority=client.authority, target=client
        )


def event_body(event: AuthorityEvent) -> dict:
    return {
        "id": str(event.event_id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after "whsec_"."""
    import base64
    import binascii

    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        # Secrets issued before the portal followed the spec were URL-safe base64 without padding.
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def sign_webhook(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature: "v1," and base64 HMAC-SHA256 over "<id>.<timestamp>.<body>"."""
    import base64
    import hashlib
    import hmac

    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookDeliveryError(Exception):
    pass


WEBHOOK_MAX_ATTEMPTS = 11  # the first and ten retries (authorities.tasks.deliver_webhook)


def attempt_webhook_delivery(*, delivery_id: int, final_attempt: bool) -> bool:
    """Send one event to one webhook. True when delivered (now or before); raises to be retried.

    The delivery row stays locked while sending, so a second run of the task (redelivered after a
    worker crash, or queued again by ``resend_pending_webhooks``) waits and then finds it delivered.
    A failed attempt is committed before the task is retried.
    """
    with transaction.atomic():
        outcome = _deliver_locked(delivery_id=delivery_id, final_attempt=final_attempt)
    if isinstance(outcome, WebhookDeliveryError):
        raise outcome
    return outcome


def _deliver_locked(*, delivery_id: int, final_attempt: bool) -> "bool | WebhookDeliveryError":
    import json
    import time
    import urllib.error
    import urllib.request

    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("event", "client")
        .get(pk=delivery_id)
    )
    if delivery.status == DeliveryStatus.DELIVERED:
        return True
    client = delivery.client
    if client.revoked_at is not None or not client.webhook_secret:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error="client revoked"
        )
        return False
    body = json.dumps(event_body(delivery.event), separators=(",", ":")).encode()
    message_id = str(delivery.event.event_id)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked when the webhook was registered
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Fuldmagt-Webhooks/1",
            # Standard Webhooks: the id stays the same on every retry, so receivers drop duplicates by it.
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(
                secret=client.webhook_secret, message_id=message_id, timestamp=timestamp, body=body
            ),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
            validate_webhook_url(delivery.url)  # the address may resolve differently now
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except (urllib.error.URLError, OSError, ValidationError) as error:
        status, error_text = None, str(error)[:500]
    else:
        error_text = f"HTTP {status}"
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        return True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_error=error_text, status=DeliveryStatus.FAILED if final_attempt else DeliveryStatus.PENDING
    )
    if final_attempt:
        return False
    return WebhookDeliveryError(error_text)


def resend_pending_webhooks(*, now: datetime.datetime | None = None) -> int:
    """Queue again deliveries still pending after a while: their task was lost (the broker was down
    when the event was written, or a worker was killed while sending). Deliveries waiting for a
    retry are queued too; the row lock and the status check keep each event delivered once."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, created_at__lte=stale, attempts__lt=WEBHOOK_MAX_ATTEMPTS * 3
        ).values_list("pk", flat=True)[:1000]
    )
    for delivery_id in ids:
        _schedule_delivery(delivery_id)
    return len(ids)
