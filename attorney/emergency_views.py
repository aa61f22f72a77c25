"""Emergency powers of attorney: a relative asks, two caseworkers approve (in the admin), and the
citizen is asked once, at their next login, whether to replace it with an ordinary one."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.forms import add_service_errors

from . import selectors, services
from .forms import EmergencyAnswerForm, EmergencyRequestForm
from .middleware import EMERGENCY_QUESTION_SESSION_KEY
from .views import DRAFT_SESSION_KEY, may_check_cpr_and_name


@login_required
def emergency_request_create(request: HttpRequest) -> HttpResponse:
    form = EmergencyRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and may_check_cpr_and_name(request, form):
        data = form.cleaned_data
        try:
            emergency = services.request_emergency_power_of_attorney(
                acting_user=request.user,
                citizen_national_id=data["citizen_national_id"],
                citizen_name=data["citizen_name"],
                authorities=data["authorities"],
                days=data["days"],
                reason=data["reason"],
                repeat_reason=data["repeat_reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request has been sent to the citizen service desk."))
            return redirect("attorney:emergency", emergency.pk)
    return render(request, "attorney/emergency_create.html", {"form": form})


@login_required
def emergency_detail(request: HttpRequest, emergency_id) -> HttpResponse:
    emergency = selectors.emergency_request_for(user=request.user, emergency_id=emergency_id)
    if emergency is None:
        raise Http404
    return render(
        request,
        "attorney/emergency.html",
        {"emergency": emergency, "is_citizen": emergency.citizen_id == request.user.pk},
    )


@login_required
@require_POST
def emergency_answer(request: HttpRequest, emergency_id) -> HttpResponse:
    """The citizen keeps the emergency power of attorney for its few days, or goes on to give the
    same person an ordinary one (the grant form, filled in, with its summary and password)."""
    emergency = selectors.emergency_request_for(user=request.user, emergency_id=emergency_id)
    form = EmergencyAnswerForm(request.POST)
    if emergency is None or emergency.citizen_id != request.user.pk or not form.is_valid():
        raise Http404
    services.answer_emergency_notice(emergency_request=emergency, acting_user=request.user)
    request.session.pop(EMERGENCY_QUESTION_SESSION_KEY, None)
    if form.cleaned_data["answer"] == "keep":
        messages.success(
            request, _("The emergency power of attorney runs until its end date. You can revoke it.")
        )
        return redirect("attorney:detail", emergency.power_of_attorney_id)
    # A draft for the grant form: the same person and rights, from today for a year; the citizen
    # changes what they like before the summary.
    now = timezone.now()
    request.session[DRAFT_SESSION_KEY] = {
        "attorney_national_id": emergency.relative.national_id,
        "attorney_name": emergency.relative.name,
        "rights": [right.pk for right in emergency.rights.all()],
        "valid_from": now.isoformat(),
        "valid_until": (now + datetime.timedelta(days=365)).isoformat(),
    }
    return redirect("attorney:create")
