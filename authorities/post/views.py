from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from attorney.acting import principal_of
from authorities.catalogue.models import (
    Authority,
)
from authorities.post.filters import InboxFilter

from . import selectors, services

PAGE_SIZE = 20


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


# Letters and their PDFs are never stored by a browser or proxy (the middleware also says so for
# any signed-in page; these say it themselves so it holds whatever the middleware becomes).
@never_cache
@login_required
def letter_detail(request: HttpRequest, letter_id) -> HttpResponse:
    principal = principal_of(request)
    letter = selectors.visible_letter(actor=request.user, principal=principal, letter_id=letter_id)
    if letter is None:
        raise Http404
    services.mark_letter_read(letter=letter, acting_user=request.user, on_behalf_of=principal)
    return render(request, "authorities/letter.html", {"letter": letter, "principal": principal})


@never_cache
@login_required
def letter_attachment(request: HttpRequest, letter_id) -> FileResponse:
    principal = principal_of(request)
    letter = selectors.visible_letter(actor=request.user, principal=principal, letter_id=letter_id)
    if letter is None or not letter.attachment:
        raise Http404
    services.record_attachment_download(letter=letter, acting_user=request.user, on_behalf_of=principal)
    return FileResponse(
        letter.attachment.open("rb"),
        as_attachment=True,
        filename=letter.attachment_name or "bilag.pdf",
        content_type="application/pdf",
    )
