from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from authorities.history.filters import AuditFilter

from . import selectors


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
