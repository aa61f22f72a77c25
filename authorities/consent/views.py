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
from authorities.catalogue.models import (
    Right,
)
from authorities.consent.models import (
    ConsentRequestStatus,
)
from portal.eid import requires_substantial_assurance

from . import selectors, services


@login_required
def consents(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    consent_requests = list(selectors.consent_requests_for(actor=request.user, principal=principal))
    given = list(selectors.consents_of(actor=request.user, principal=principal))
    return render(
        request,
        "authorities/consents.html",
        {
            "principal": principal,
            # An attorney without any consent right is told so instead of seeing empty lists.
            "covers_no_consents": principal.pk != request.user.pk
            and not selectors.consent_authorities(actor=request.user, principal=principal).exists(),
            "pending": [r for r in consent_requests if r.status == ConsentRequestStatus.PENDING],
            "in_force": [c for c in given if c.is_in_force],
            "history": given,
            "refused": [r for r in consent_requests if r.status == ConsentRequestStatus.REFUSED],
        },
    )


def _consent_denied(request: HttpRequest, authority) -> HttpResponse:
    principal = principal_of(request)
    right = (
        Right.objects.select_related("service__authority").filter(code=f"{authority.slug}.consent").first()
    )
    if right is None:
        raise Http404
    return not_covered(
        request,
        principal=principal,
        right=right,
        decision=authorize(actor=request.user, principal=principal, right=right),
    )


@login_required
@requires_substantial_assurance
@require_POST
def consent_answer(request: HttpRequest, request_id) -> HttpResponse:
    principal = principal_of(request)
    consent_request = (
        selectors.consent_requests_for(actor=request.user, principal=principal).filter(pk=request_id).first()
    )
    if consent_request is None:
        raise Http404
    answer = request.POST.get("answer")
    try:
        if answer == "grant":
            services.grant_consent(
                consent_request=consent_request, acting_user=request.user, principal=principal
            )
            messages.success(request, _("You have given your consent. You can withdraw it at any time."))
        elif answer == "refuse":
            services.refuse_consent(
                consent_request=consent_request, acting_user=request.user, principal=principal
            )
            messages.success(request, _("You have said no. The authority may not use the data."))
        else:
            messages.error(request, _("Choose yes or no."))
    except PermissionDenied:
        return _consent_denied(request, consent_request.authority)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("authorities:consents")


@login_required
@requires_substantial_assurance
def consent_withdraw(request: HttpRequest, consent_id) -> HttpResponse:
    principal = principal_of(request)
    consent = selectors.consents_of(actor=request.user, principal=principal).filter(pk=consent_id).first()
    if consent is None:
        raise Http404
    if request.method == "POST":
        try:
            services.withdraw_consent(consent=consent, acting_user=request.user, principal=principal)
        except PermissionDenied:
            return _consent_denied(request, consent.authority)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The consent has been withdrawn. It no longer applies."))
        return redirect("authorities:consents")
    return render(request, "authorities/consent_withdraw.html", {"consent": consent, "principal": principal})
