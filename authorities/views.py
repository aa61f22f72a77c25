from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from attorney.policy import authorize
from attorney.views import not_covered
from portal.eid import requires_substantial_assurance

from . import selectors, services
from .filters import AuditFilter, InboxFilter
from .forms import ApplicationSubmitForm
from .models import Authority, ConsentRequestStatus, Right, Service

PAGE_SIZE = 20


def principal_of(request: HttpRequest):
    """The person whose affairs the page shows: the one being acted for, or the user."""
    return request.acting_for or request.user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    files = selectors.mail_files(actor=request.user, principal=principal)
    authorities = Authority.objects.filter(citizen_files__in=files).order_by("name_da")
    letters = selectors.inbox(actor=request.user, principal=principal)
    letter_filter = InboxFilter(request.GET or None, queryset=letters, authorities=authorities)
    page = Paginator(letter_filter.qs, PAGE_SIZE).get_page(request.GET.get("side"))
    query = request.GET.copy()
    query.pop("side", None)
    return render(
        request,
        "authorities/inbox.html",
        {"principal": principal, "page": page, "filter": letter_filter, "query": query.urlencode()},
    )


@login_required
def letter_detail(request: HttpRequest, letter_id) -> HttpResponse:
    principal = principal_of(request)
    letter = selectors.visible_letter(actor=request.user, principal=principal, letter_id=letter_id)
    if letter is None:
        raise Http404
    services.mark_letter_read(letter=letter, reader=request.user, on_behalf_of=principal)
    return render(request, "authorities/letter.html", {"letter": letter, "principal": principal})


@login_required
def letter_attachment(request: HttpRequest, letter_id) -> FileResponse:
    principal = principal_of(request)
    letter = selectors.visible_letter(actor=request.user, principal=principal, letter_id=letter_id)
    if letter is None or not letter.attachment:
        raise Http404
    services.record_attachment_download(letter=letter, reader=request.user, on_behalf_of=principal)
    return FileResponse(
        letter.attachment.open("rb"),
        as_attachment=True,
        filename=letter.attachment_name or "bilag.pdf",
        content_type="application/pdf",
    )


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
        request, "authorities/application.html", {"application": application, "principal": principal}
    )


@login_required
def apply(request: HttpRequest, authority_slug: str, service_slug: str) -> HttpResponse:
    principal = principal_of(request)
    service = (
        Service.objects.select_related("authority", "application_form__right__service__authority")
        .filter(authority__slug=authority_slug, slug=service_slug, application_form__isnull=False)
        .first()
    )
    if service is None:
        raise Http404
    right = service.application_form.right
    if not selectors.services_open_for_applications(actor=request.user, principal=principal).filter(
        pk=service.pk
    ):
        return not_covered(
            request,
            principal=principal,
            right=right,
            decision=authorize(actor=request.user, principal=principal, right=right),
        )
    form = ApplicationSubmitForm(
        request.POST or None, request.FILES or None, application_form=service.application_form
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.submit_application(
                actor=request.user,
                principal=principal,
                service=service,
                description=form.cleaned_data["description"],
                amount=form.cleaned_data.get("amount"),
                date_value=form.cleaned_data.get("date_value"),
                attachment=form.cleaned_data.get("attachment"),
            )
        except PermissionDenied:
            decision = authorize(actor=request.user, principal=principal, right=right)
            return not_covered(request, principal=principal, right=right, decision=decision)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The application has been sent to %(authority)s.") % {"authority": service.authority.name},
            )
            return redirect("authorities:application", application.pk)
    return render(
        request, "authorities/apply.html", {"form": form, "service": service, "principal": principal}
    )


def _audit_history(request: HttpRequest, events, template: str) -> HttpResponse:
    audit_filter = AuditFilter(request.GET or None, queryset=events)
    page = Paginator(audit_filter.qs, 50).get_page(request.GET.get("side"))
    query = request.GET.copy()
    query.pop("side", None)
    return render(request, template, {"page": page, "filter": audit_filter, "query": query.urlencode()})


@login_required
def done_in_my_name(request: HttpRequest) -> HttpResponse:
    return _audit_history(
        request, selectors.done_in_name_of(request.user), "authorities/done_in_my_name.html"
    )


@login_required
def done_for_others(request: HttpRequest) -> HttpResponse:
    return _audit_history(
        request, selectors.done_for_others(request.user), "authorities/done_for_others.html"
    )


# --- Consent for data use --------------------------------------------------------------------


@login_required
def consents(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    consent_requests = list(selectors.consent_requests_for(principal))
    given = list(selectors.consents_of(principal))
    return render(
        request,
        "authorities/consents.html",
        {
            "principal": principal,
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
    consent_request = selectors.consent_requests_for(principal).filter(pk=request_id).first()
    if consent_request is None:
        raise Http404
    answer = request.POST.get("answer")
    try:
        if answer == "grant":
            services.grant_consent(consent_request=consent_request, actor=request.user, principal=principal)
            messages.success(request, _("You have given your consent. You can withdraw it at any time."))
        elif answer == "refuse":
            services.refuse_consent(consent_request=consent_request, actor=request.user, principal=principal)
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
    consent = selectors.consents_of(principal).filter(pk=consent_id).first()
    if consent is None:
        raise Http404
    if request.method == "POST":
        try:
            services.withdraw_consent(consent=consent, actor=request.user, principal=principal)
        except PermissionDenied:
            return _consent_denied(request, consent.authority)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The consent has been withdrawn. It no longer applies."))
        return redirect("authorities:consents")
    return render(request, "authorities/consent_withdraw.html", {"consent": consent, "principal": principal})
