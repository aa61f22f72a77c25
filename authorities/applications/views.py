from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from attorney.acting import principal_of
from attorney.policy import authorize
from attorney.views import not_covered
from authorities.applications.forms import ApplicationSubmitForm
from authorities.applications.models import ApplicationStatus
from authorities.catalogue.models import (
    Service,
)

from . import selectors, services


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    return render(
        request,
        "authorities/applications.html",
        {
            "principal": principal,
            "applications": selectors.applications(actor=request.user, principal=principal)[:100],
            "services": selectors.services_open_for_applications(actor=request.user, principal=principal),
        },
    )


@login_required
def application_detail(request: HttpRequest, application_id) -> HttpResponse:
    principal = principal_of(request)
    application = (
        selectors.applications(actor=request.user, principal=principal).filter(pk=application_id).first()
    )
    if application is None:
        raise Http404
    return render(
        request,
        "authorities/application.html",
        {
            "application": application,
            "principal": principal,
            **selectors.joint_choices(actor=request.user, application=application),
        },
    )


def _joint_decision(request: HttpRequest, application_id, *, action, done: str) -> HttpResponse:
    principal = principal_of(request)
    application = (
        selectors.applications(actor=request.user, principal=principal).filter(pk=application_id).first()
    )
    if application is None:
        raise Http404
    try:
        action(application=application, acting_user=request.user)
    except PermissionDenied as error:
        messages.error(request, " ".join(str(arg) for arg in error.args) or _("You may not do that."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("authorities:application", application.pk)


@login_required
@require_POST
def application_approve(request: HttpRequest, application_id) -> HttpResponse:
    return _joint_decision(
        request,
        application_id,
        action=services.approve_joint_application,
        done=_("You approved the application. It has been sent to the authority."),
    )


@login_required
@require_POST
def application_stop(request: HttpRequest, application_id) -> HttpResponse:
    return _joint_decision(
        request,
        application_id,
        action=services.stop_joint_application,
        done=_("The application has been stopped. The authority will not receive it."),
    )


@login_required
def apply(request: HttpRequest, authority_slug: str, service_slug: str) -> HttpResponse:
    principal = principal_of(request)
    service = selectors.service_taking_applications(authority_slug=authority_slug, service_slug=service_slug)
    if service is None:
        raise Http404
    if not selectors.services_open_for_applications(actor=request.user, principal=principal).filter(
        pk=service.pk
    ):
        return _not_covered(request, principal=principal, service=service)
    form = ApplicationSubmitForm(
        request.POST or None, request.FILES or None, application_form=service.application_form
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.submit_application(
                acting_user=request.user,
                principal=principal,
                service=service,
                **{field: form.cleaned_data.get(field) for field in APPLICATION_FIELDS},
            )
        except PermissionDenied:
            return _not_covered(request, principal=principal, service=service)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _sent(application))
            return redirect("authorities:application", application.pk)
    return render(
        request, "authorities/apply.html", {"form": form, "service": service, "principal": principal}
    )


APPLICATION_FIELDS = ("description", "amount", "date_value", "attachment")


def _not_covered(request: HttpRequest, *, principal, service: Service) -> HttpResponse:
    """The page that says why the acting user may not apply here, from the policy's decision."""
    right = service.application_form.right
    decision = authorize(actor=request.user, principal=principal, right=right)
    return not_covered(request, principal=principal, right=right, decision=decision)


def _sent(application) -> str:
    if application.status == ApplicationStatus.ON_HOLD:
        return _("The application waits for the other attorney's approval before it is sent.")
    return _("The application has been sent to %(authority)s.") % {
        "authority": application.service.authority.name
    }
