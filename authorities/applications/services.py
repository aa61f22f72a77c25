import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.applications.models import Application, ApplicationStatus, ApplicationValueKind
from authorities.catalogue.models import Service
from authorities.catalogue.services import get_or_create_citizen_file
from authorities.catalogue.validators import validate_pdf
from authorities.post.services import write_letter
from portal.audit import record_event
from portal.errors import Conflict, Invalid, NotAllowed
from portal.models import User


def submit_application(
    *,
    acting_user: User,
    principal: User,
    service: Service,
    description: str,
    amount: Decimal | None = None,
    date_value: datetime.date | None = None,
    attachment=None,
) -> Application:
    """Submit an application to a service, for oneself or for the principal within the mandate.

    The acting user must hold the service's application right for the principal right now; a forged
    request for another service or another citizen is refused and saves nothing.
    """
    from attorney.policy import can_act_for

    form = getattr(service, "application_form", None)
    if form is None:
        raise Invalid(_("This service does not take applications here."))
    if not can_act_for(acting_user, principal, form.right):
        raise NotAllowed(_("You may not apply to this service for this person."))
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
        raise Invalid(errors)
    with transaction.atomic(durable=True):
        citizen_file = get_or_create_citizen_file(citizen=principal, authority=service.authority)
        application = Application(
            service=service,
            citizen_file=citizen_file,
            submitted_by=acting_user,
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
            actor=acting_user,
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
    *, application: Application, acting_user: User | None, status: str, decision_text: str = ""
) -> Application:
    """The authority moves an application on along APPLICATION_TRANSITIONS; a decision is final and
    needs its text. ``acting_user`` is None when the authority's own system decides."""
    with transaction.atomic(durable=True):
        return _decide_application(
            application=application, acting_user=acting_user, status=status, decision_text=decision_text
        )


def _decide_application(
    *, application: Application, acting_user: User | None, status: str, decision_text: str
) -> Application:
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if status not in APPLICATION_TRANSITIONS.get(locked.status, set()):
        raise Conflict(
            _("The application cannot move from %(old)s to %(new)s.")
            % {
                "old": locked.get_status_display(),
                "new": ApplicationStatus(status).label,
            },
            code="transition",
        )
    if status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        if not decision_text.strip():
            raise Invalid({"decision_text": _("Write the decision.")})
        locked.decided_at = timezone.now()
    locked.status = status
    locked.decision_text = decision_text.strip()
    locked.save(update_fields=["status", "decision_text", "decided_at"])
    # The authority acts on its own account here, not on the citizen's behalf.
    record_event(
        action=f"application.{status}",
        actor=acting_user,
        authority=locked.service.authority,
        target=locked,
        details={"citizen": locked.on_behalf_of_id},
    )
    return locked


def decide_application_as_caseworker(
    *, application: Application, acting_user: User, status: str, decision_text: str = ""
) -> Application:
    """A caseworker moves an application at their own authority on, and tells the citizen a decision.

    The caseworker must work for the authority the application was made to (the service desk may
    act at any). An approval or rejection is sent to the citizen as a letter on their file there, in
    their own language, so an attorney who reads their post sees it too. Decision and letter are
    one transaction: there is never a decision without its letter, nor a letter without a decision.
    """
    from django.utils import formats, translation

    from authorities.catalogue.selectors import is_in_caseworker_scope

    if not is_in_caseworker_scope(user=acting_user, record=application):
        raise NotAllowed(_("This application was not made to your authority."))
    if status not in ApplicationStatus.values:
        raise Invalid({"status": _("Choose a valid status.")})
    with transaction.atomic(durable=True):
        decided = _decide_application(
            application=application, acting_user=acting_user, status=status, decision_text=decision_text
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
                write_letter(
                    authority=authority,
                    citizen=citizen,
                    subject=(_("Decision on your application: %(service)s") % facts)[:300],
                    body=f"{outcome}\n\n{decided.decision_text}\n\n{authority.name}",
                )
    return decided
