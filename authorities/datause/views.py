from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from attorney.acting import principal_of
from authorities.consent.selectors import consents_of
from portal.errors import NotAllowed

from . import export, selectors
from .filters import DataUseFilter

PAGE_SIZE = 50


def _page(request: HttpRequest, uses):
    return Paginator(uses, PAGE_SIZE).get_page(request.GET.get("side"))


def _visible_uses(request: HttpRequest):
    """The principal's uses the user may see, or a 403 that says why for an attorney without the right."""
    principal = principal_of(request)
    if selectors.covers_no_data_use(actor=request.user, principal=principal):
        raise NotAllowed(
            _(
                "Your power of attorney from %(name)s does not cover consents, so you cannot see how their data is used."
            )
            % {"name": principal.name}
        )
    return principal, selectors.data_uses_for(actor=request.user, principal=principal)


@login_required
def data_uses(request: HttpRequest) -> HttpResponse:
    principal, uses = _visible_uses(request)
    authorities = selectors.data_use_authorities(actor=request.user, principal=principal)
    use_filter = DataUseFilter(request.GET or None, queryset=uses, authorities=authorities)
    query = request.GET.copy()
    query.pop("side", None)
    return render(
        request,
        "authorities/data_uses.html",
        {
            "principal": principal,
            "filter": use_filter,
            "page": _page(request, use_filter.qs),
            "query": query.urlencode(),
        },
    )


@login_required
def consent_detail(request: HttpRequest, consent_id) -> HttpResponse:
    principal = principal_of(request)
    consent = selectors.consent_with_uses(actor=request.user, principal=principal, consent_id=consent_id)
    if consent is None:
        raise Http404
    page = _page(request, selectors.data_uses_of(consent))
    return render(
        request, "authorities/consent.html", {"principal": principal, "consent": consent, "page": page}
    )


def _download(chunks, *, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_uses(request: HttpRequest):
    """A download is the person's own: an attorney sees the uses while acting, but takes no copy."""
    if principal_of(request).pk != request.user.pk:
        raise NotAllowed(
            _("Only the person themselves can download their consents and the uses of their data.")
        )
    return _visible_uses(request)


@login_required
def export_json(request: HttpRequest) -> StreamingHttpResponse:
    principal, uses = _own_uses(request)
    consents = consents_of(actor=request.user, principal=principal).order_by("-valid_from")
    return _download(
        export.json_chunks(consents.iterator(chunk_size=500), uses.iterator(chunk_size=2000)),
        content_type="application/json; charset=utf-8",
        filename="samtykker-og-brug-af-data.json",
    )


@login_required
def export_csv(request: HttpRequest, kind: str) -> StreamingHttpResponse:
    principal, uses = _own_uses(request)
    if kind == "samtykker":
        consents = consents_of(actor=request.user, principal=principal).order_by("-valid_from")
        rows = map(export.consent_row, consents.iterator(chunk_size=500))
        columns = export.CONSENT_COLUMNS
    elif kind == "brug":
        rows, columns = map(export.data_use_row, uses.iterator(chunk_size=2000)), export.DATA_USE_COLUMNS
    else:
        raise Http404
    return _download(
        export.csv_chunks(columns, rows), content_type="text/csv; charset=utf-8", filename=f"{kind}.csv"
    )
