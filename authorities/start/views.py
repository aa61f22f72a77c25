import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.adapters import PREVIOUS_VISIT_SESSION_KEY
from portal.services import mark_notices_read

from . import selectors

# Without a remembered last visit (the first one), "since your last visit" means the last 30 days.
FIRST_VISIT_LOOKBACK = datetime.timedelta(days=30)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """The start page after login: what waits for the person, and whom they can act for."""
    since = parse_datetime(request.session.get(PREVIOUS_VISIT_SESSION_KEY) or "") or (
        timezone.now() - FIRST_VISIT_LOOKBACK
    )
    page = selectors.start_page(user=request.user, since=since, notice_page=request.GET.get("side"))
    mark_notices_read(recipient=request.user, notice_ids=page.notices.notice_ids)
    return render(request, "authorities/start.html", {"start": page})
