"""What the start page ("Overblik") shows a person: what waits for them and whom they can act for.

Every list is read with a fixed number of queries, however many items it holds.
"""

import datetime
import json
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from attorney import selectors as attorney_selectors
from attorney.models import PowerOfAttorney
from attorney.policy import mandates_in_force
from authorities.consent.models import ConsentRequestStatus
from authorities.consent.selectors import consent_requests_for
from authorities.history.selectors import done_in_name_of
from authorities.post.selectors import inbox
from portal.models import Notice, User
from portal.selectors import notices_for

EXPIRING_WITHIN = datetime.timedelta(days=30)
SHOWN = 5
NOTICES_PER_PAGE = 10
CONSENT_NOTICE = "authorities/email/consent"


@dataclass
class StartPage:
    attorney_requests: list
    invitations: list
    #: Organisations the person administers with powers of attorney waiting for their answer.
    organisation_offers: list
    consent_requests: list
    unread_letters: list
    unread_letter_count: int
    expiring: list
    done_in_my_name: list
    done_in_my_name_count: int
    since: datetime.datetime
    people: list
    notices: Page

    @property
    def waiting_count(self) -> int:
        return (
            len(self.attorney_requests)
            + len(self.invitations)
            + len(self.organisation_offers)
            + len(self.consent_requests)
            + self.unread_letter_count
            + len(self.expiring)
        )


def _people_to_act_for(user: User) -> list[dict]:
    people: dict[int, dict] = {}
    for mandate in mandates_in_force(attorney=user):
        entry = people.setdefault(mandate.grantor_id, {"grantor": mandate.grantor, "rights": {}})
        entry["rights"].update({right.pk: right for right in mandate.rights.all()})
    return [
        {"grantor": e["grantor"], "rights": sorted(e["rights"].values(), key=lambda r: r.code)}
        for e in people.values()
    ]


def _notices_page(user: User, *, shown_links: set[str], consent_requests_shown: bool, page_number) -> Page:
    """The person's notices, newest first, without those about something the page already lists
    as waiting, and each notice of the same thing once. ``page.notice_ids`` are all on the page,
    shown or folded away."""
    page = Paginator(notices_for(user), NOTICES_PER_PAGE).get_page(page_number)
    page.notice_ids = [notice.pk for notice in page.object_list]
    seen: set[tuple] = set()
    kept: list[Notice] = []
    for notice in page.object_list:
        key = (
            notice.template,
            json.dumps(notice.params, sort_keys=True) if notice.template else notice.subject,
            notice.link,
        )
        listed = (notice.link and notice.link in shown_links) or (
            consent_requests_shown
            and notice.template == CONSENT_NOTICE
            and notice.params.get("event") == "requested"
        )
        if listed or key in seen:
            continue
        seen.add(key)
        kept.append(notice)
    page.object_list = kept
    return page


def start_page(*, user: User, since: datetime.datetime, notice_page=None) -> StartPage:
    """What waits for ``user``: requests and invitations to answer (also powers of attorney to
    organisations they administer), consent requests, unread letters, their powers of attorney
    (given or received) that end within 30 days, and what was done in their name since ``since``;
    the people they can act for; their notices."""
    now = timezone.now()
    attorney_requests = list(attorney_selectors.open_requests_to(user).order_by("-created_at"))
    invitations = list(attorney_selectors.invitations_for(user).order_by("-created_at"))
    consent_requests = list(
        consent_requests_for(actor=user, principal=user)
        .filter(status=ConsentRequestStatus.PENDING)
        .order_by("-created_at")
    )
    unread = inbox(actor=user, principal=user).filter(is_read=False)
    unread_letters = list(unread[:SHOWN])
    unread_count = unread.count()
    expiring = list(
        PowerOfAttorney.objects.in_force(now)
        .filter(Q(grantor=user) | Q(attorney=user), valid_until__lte=now + EXPIRING_WITHIN)
        .select_related("grantor", "attorney")
        .order_by("valid_until")
    )
    done = done_in_name_of(user).filter(created_at__gt=since)
    done_shown = list(done[:SHOWN])
    done_count = done.count()
    shown_links = {reverse("attorney:request_answer", args=[r.pk]) for r in attorney_requests}
    shown_links |= {reverse("attorney:detail", args=[m.pk]) for m in invitations + expiring}
    return StartPage(
        attorney_requests=attorney_requests,
        invitations=invitations,
        organisation_offers=attorney_selectors.organisations_with_offers(user),
        consent_requests=consent_requests,
        unread_letters=unread_letters,
        unread_letter_count=unread_count,
        expiring=expiring,
        done_in_my_name=done_shown,
        done_in_my_name_count=done_count,
        since=since,
        people=_people_to_act_for(user),
        notices=_notices_page(
            user,
            shown_links=shown_links,
            consent_requests_shown=bool(consent_requests),
            page_number=notice_page,
        ),
    )
