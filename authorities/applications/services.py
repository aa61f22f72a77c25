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
from portal.notifications import notify


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
    request for another service or another citizen is refused and saves nothing. An attorney who
    holds the right only through attorneys appointed jointly makes it on hold: the authority sees it
    once another attorney of that appointment approves it (``approve_joint_application``).
    """
    from attorney.policy import can_act_for, co_attorneys, joint_appointment_for

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
        appointment = joint_appointment_for(actor=acting_user, principal=principal, right=form.right)
        citizen_file = get_or_create_citizen_file(citizen=principal, authority=service.authority)
        application = Application(
            service=service,
            citizen_file=citizen_file,
            submitted_by=acting_user,
            on_behalf_of=principal,
            description=description,
            amount=amount if form.value_kind == ApplicationValueKind.AMOUNT else None,
            date_value=date_value if form.value_kind == ApplicationValueKind.DATE else None,
            joint_appointment=appointment,
            status=ApplicationStatus.ON_HOLD if appointment else ApplicationStatus.SUBMITTED,
        )
        if attachment is not None:
            application.attachment.save(f"{application.pk}.pdf", attachment, save=False)
        application.save()
        if appointment is None:
            record_event(
                action="application.submitted",
                actor=acting_user,
                principal=principal,
                authority=service.authority,
                target=application,
                details={"service": service.slug},
            )
        else:
            # No authority on the event: the authority has received nothing yet.
            record_event(
                action="application.held",
                actor=acting_user,
                principal=principal,
                target=application,
                details={"service": service.slug, "joint_appointment": str(appointment.pk)},
            )
            for attorney in co_attorneys(appointment=appointment, right=form.right, besides=acting_user):
                _notify_joint(application, attorney, "held")
    return application


def _notify_joint(application: Application, recipient: User, event: str) -> None:
    from django.urls import reverse

    notify(
        recipient=recipient,
        event_key=f"application:{application.pk}:{event}",
        template="authorities/email/joint_application",
        context={"application": application},
        params={
            "event": event,
            "who": application.submitted_by.name,
            "citizen": application.on_behalf_of.name,
        },
        link=reverse("authorities:application", args=[application.pk]),
    )


def _lock_held(application: Application) -> Application:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service__authority", "service__application_form__right", "on_behalf_of")
        .get(pk=application.pk)
    )
    if locked.status != ApplicationStatus.ON_HOLD:
        raise Conflict(
            _("This application is no longer waiting for approval (it is %(status)s).")
            % {"status": locked.get_status_display().lower()},
            code="transition",
        )
    return locked


def approve_joint_application(*, application: Application, acting_user: User) -> Application:
    """Another attorney of the same joint appointment approves an application on hold; it is then
    submitted to the authority.

    The approver must hold the service's application right for the citizen now, through their own
    mandate in that appointment; the attorney who made the application cannot approve it.
    """
    from attorney.policy import acts_in_appointment

    with transaction.atomic(durable=True):
        locked = _lock_held(application)
        right = locked.service.application_form.right
        if acting_user.pk == locked.submitted_by_id:
            raise NotAllowed(_("Another attorney must approve an application you made."))
        if not acts_in_appointment(actor=acting_user, appointment=locked.joint_appointment, right=right):
            raise NotAllowed(_("You may not approve this application."))
        now = timezone.now()
        locked.status = ApplicationStatus.SUBMITTED
        locked.approved_by = acting_user
        locked.approved_at = now
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        record_event(
            action="application.co_approved",
            actor=acting_user,
            principal=locked.on_behalf_of,
            authority=locked.service.authority,
            target=locked,
            details={"service": locked.service.slug, "made_by": locked.submitted_by_id},
        )
        _notify_joint(locked, locked.submitted_by, "approved")
    return locked


def stop_joint_application(*, application: Application, acting_user: User) -> Application:
    """Any attorney of the joint appointment, the one who made it included, stops an application on
    hold; the authority never receives it. Stopping needs the same standing as approving."""
    from attorney.policy import acts_in_appointment, co_attorneys

    with transaction.atomic(durable=True):
        locked = _lock_held(application)
        right = locked.service.application_form.right
        if not acts_in_appointment(actor=acting_user, appointment=locked.joint_appointment, right=right):
            raise NotAllowed(_("You may not stop this application."))
        locked.status = ApplicationStatus.STOPPED
        locked.stopped_by = acting_user
        locked.stopped_at = timezone.now()
        locked.save(update_fields=["status", "stopped_by", "stopped_at"])
        record_event(
            action="application.stopped",
            actor=acting_user,
            principal=locked.on_behalf_of,
            target=locked,
            details={"service": locked.service.slug, "made_by": locked.submitted_by_id},
        )
        others = co_attorneys(appointment=locked.joint_appointment, right=right, besides=acting_user)
        if locked.submitted_by_id != acting_user.pk and locked.submitted_by not in others:
            others.append(locked.submitted_by)
        for attorney in others:
            _notify_joint(locked, attorney, "stopped")
    return locked


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
