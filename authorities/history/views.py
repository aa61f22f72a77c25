from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from attorney.acting import principal_of
from authorities.history.filters import AuditFilter
from portal.tlog import entry_proof

from . import selectors


def _audit_history(request: HttpRequest, events, template: str, principal=None) -> HttpResponse:
    audit_filter = AuditFilter(request.GET or None, queryset=events)
    page = Paginator(audit_filter.qs, 50).get_page(request.GET.get("side"))
    query = request.GET.copy()
    query.pop("side", None)
    return render(
        request,
        template,
        {
            "page": page,
            "filter": audit_filter,
            "query": query.urlencode(),
            "principal": principal or request.user,
        },
    )


@login_required
def done_in_my_name(request: HttpRequest) -> HttpResponse:
    """One's own "done in my name"; while acting for someone, what one has done in their name."""
    principal = principal_of(request)
    events = selectors.done_in_name_of(principal)
    if principal.pk != request.user.pk:
        events = events.filter(actor=request.user)
    return _audit_history(request, events, "authorities/done_in_my_name.html", principal=principal)


@login_required
def done_for_others(request: HttpRequest) -> HttpResponse:
    return _audit_history(
        request, selectors.done_for_others(request.user), "authorities/done_for_others.html"
    )


@login_required
def log_entry_proof(request: HttpRequest, uuid) -> HttpResponse:
    """One's own audit entry with its inclusion proof against the latest signed checkpoint, to
    check outside the portal (see docs/audit-log.md)."""
    event = selectors.visible_event(user=request.user, uuid=uuid)
    proof = entry_proof(event) if event is not None else None
    if proof is None:
        raise Http404
    return JsonResponse(proof, json_dumps_params={"indent": 2})
