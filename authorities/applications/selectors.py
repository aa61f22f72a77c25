from django.db.models import QuerySet

from attorney.policy import permitted_files, rights_in_force
from authorities.applications.models import (
    Application,
    ApplicationStatus,
)
from authorities.catalogue.models import Right, Service
from portal.models import User


def applying_rights(*, actor: User, principal: User) -> list[Right]:
    """Rights the actor can apply with for the principal (every right when acting for themselves)."""
    if actor.pk == principal.pk:
        return list(Right.objects.select_related("service__authority"))
    return rights_in_force(actor=actor, principal=principal)


def service_taking_applications(*, authority_slug: str, service_slug: str) -> Service | None:
    """A service that takes applications in the portal, with what its form and refusal page need."""
    return (
        Service.objects.select_related("authority", "application_form__right__service__authority")
        .filter(authority__slug=authority_slug, slug=service_slug, application_form__isnull=False)
        .first()
    )


def services_open_for_applications(*, actor: User, principal: User) -> QuerySet[Service]:
    right_ids = [right.pk for right in applying_rights(actor=actor, principal=principal)]
    return (
        Service.objects.filter(application_form__right_id__in=right_ids)
        .select_related("authority", "application_form")
        .order_by("authority__name_da", "name_da")
    )


def applications(*, actor: User, principal: User) -> QuerySet[Application]:
    """The principal's applications to services the actor may apply to for them."""
    found = Application.objects.filter(citizen_file__citizen=principal)
    if actor.pk != principal.pk:
        rights = [r for r in rights_in_force(actor=actor, principal=principal)]
        files = permitted_files(actor=actor, principal=principal, rights=rights)
        found = found.filter(
            citizen_file__in=files, service__application_form__right_id__in=[r.pk for r in rights]
        )
    return found.select_related(
        "service__authority", "submitted_by", "on_behalf_of", "approved_by", "stopped_by"
    ).order_by("-submitted_at")


def joint_choices(*, actor: User, application: Application) -> dict[str, bool]:
    """Whether the actor may approve or stop an application on hold for attorneys appointed jointly."""
    from attorney.policy import acts_in_appointment

    if application.status != ApplicationStatus.ON_HOLD:
        return {"may_approve": False, "may_stop": False}
    may_act = acts_in_appointment(
        actor=actor,
        appointment=application.joint_appointment,
        right=application.service.application_form.right,
    )
    return {"may_approve": may_act and actor.pk != application.submitted_by_id, "may_stop": may_act}
