from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import selectors


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Who acts for the person by law, and for whom they act: seen, not revoked here."""
    relations = list(selectors.representations_of(request.user))
    parties = selectors.parties_by_cpr(relations)
    mine = request.user.national_id
    for relation in relations:
        relation.represented = parties[relation.represented_national_id]
        relation.representative = parties[relation.representative_national_id]
        relation.in_force_now = relation.is_in_force()
    return render(
        request,
        "representation/overview.html",
        {
            "for_me": [r for r in relations if r.represented_national_id == mine],
            "by_me": [r for r in relations if r.representative_national_id == mine],
            "now": timezone.now(),
        },
    )
