"""The pages that list powers of attorney must not run more queries when there are more of them.

Each test measures a page with the smallest data that fills every list on it (one item per list, so
every prefetch runs), then adds many more mandates in mixed statuses and with several rights each
and asserts the page runs no more queries than before. When a count grows, the queries that repeat
are printed (captured stdout of the failing test), so the N+1 can be found.
"""

import datetime
import itertools
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attorney import services
from attorney.middleware import ACTING_FOR_SESSION_KEY
from attorney.models import PowerOfAttorney, Status

from ..conftest import grant
from ..factories import RightFactory, UserFactory

pytestmark = pytest.mark.django_db

MIXED = [Status.ACTIVE, Status.PENDING, Status.REVOKED, Status.DECLINED, Status.RESIGNED, Status.EXPIRED]


@pytest.fixture
def clock(time_machine):
    """Time stands still, so a page sees the same moment as the data it lists."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.fixture
def rights(read_mail, tax_statement, kommune_mail):
    return [read_mail, tax_statement, kommune_mail, RightFactory(), RightFactory()]


def rights_for(n: int, rights: list) -> list:
    """Two to four rights from the catalogue, different from one mandate to the next."""
    size = 2 + n % 3
    return [rights[(n + i) % len(rights)] for i in range(size)]


def make_mandate(grantor, attorney, rights, status, clock):
    """A mandate brought into ``status`` through the services."""
    if status == Status.EXPIRED:
        # Given and accepted for one hour, two hours ago; the expiry job has ended it since.
        now = timezone.now()
        clock.move_to(now - datetime.timedelta(hours=2), tick=False)
        try:
            mandate = grant(grantor, attorney, rights, days=1 / 24)
            services.accept(power_of_attorney=mandate, acting_user=attorney)
        finally:
            clock.move_to(now, tick=False)
        services.expire_due()
        return mandate
    mandate = grant(grantor, attorney, rights)
    if status in (Status.ACTIVE, Status.REVOKED, Status.RESIGNED):
        mandate = services.accept(power_of_attorney=mandate, acting_user=attorney)
    if status == Status.REVOKED:
        services.revoke(power_of_attorney=mandate, acting_user=grantor)
    elif status == Status.RESIGNED:
        services.resign(power_of_attorney=mandate, acting_user=attorney)
    elif status == Status.DECLINED:
        services.decline(power_of_attorney=mandate, acting_user=attorney)
    return mandate


_variety = itertools.count()


def give_and_receive(me, rights, clock, *, given, received):
    """``me`` gives a mandate in each status of ``given`` and receives one in each of ``received``,
    each time with another person, so no two are identical."""
    for status in given:
        make_mandate(me, UserFactory(), rights_for(next(_variety), rights), status, clock)
    for status in received:
        make_mandate(UserFactory(), me, rights_for(next(_variety), rights), status, clock)


def ask(requester, grantor, rights):
    return services.request_power_of_attorney(
        acting_user=requester,
        grantor_national_id=grantor.national_id,
        grantor_name=grantor.name,
        rights=rights,
        valid_until=timezone.now() + datetime.timedelta(days=90),
    )


_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b|\b[0-9a-f]{32}\b")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')
_IN_LIST = re.compile(r"IN \((\?, )*\?\)")


def _shape(sql: str) -> str:
    """The query with its parameters, savepoint names and IN lists blanked out."""
    return _IN_LIST.sub("IN (...)", _LITERALS.sub("?", _SAVEPOINT.sub("?", sql)))


def report_repeats(small: list[dict], large: list[dict]) -> None:
    """Print the queries that ran more often on the large page than on the small one."""
    before = Counter(_shape(q["sql"]) for q in small)
    after = Counter(_shape(q["sql"]) for q in large)
    grown = {sql: (before[sql], count) for sql, count in after.items() if count > before[sql]}
    print(f"\n{len(small)} queries with little data, {len(large)} with many.")
    for sql, (was, now) in sorted(grown.items(), key=lambda item: -item[1][1]):
        print(f"  {was} -> {now} times: {sql}")


def assert_same_count(page, small, django_assert_max_num_queries):
    """Request ``page`` and fail if it takes more queries than ``small`` did; print what repeats."""
    with django_assert_max_num_queries(len(small)) as large:
        response = page()
        report_repeats(small.captured_queries, large.captured_queries)
    return response


def measure(page) -> CaptureQueriesContext:
    page()  # warm up: shows the login message, fills the content type cache
    with CaptureQueriesContext(connection) as captured:
        page()
    return captured


def test_overview_runs_the_same_queries_for_1_and_30_mandates(
    client, login, karen, rights, clock, django_assert_max_num_queries
):
    # One item in every list on the page: a given and a received mandate, an invitation, a
    # request to Karen and one from her.
    give_and_receive(karen, rights, clock, given=[Status.ACTIVE], received=[Status.ACTIVE, Status.PENDING])
    ask(UserFactory(), karen, rights[:2])
    ask(karen, UserFactory(), rights[:2])
    login(client, karen)
    url = reverse("attorney:overview")

    def page():
        response = client.get(url)
        assert response.status_code == 200
        return response

    small = measure(page)

    # 30 more: 15 given and 15 received, in every status, with two to four rights each.
    give_and_receive(karen, rights, clock, given=MIXED * 2 + MIXED[:3], received=MIXED * 2 + MIXED[:3])
    for _ in range(3):
        ask(UserFactory(), karen, rights[1:4])
        ask(karen, UserFactory(), rights[2:])
    assert PowerOfAttorney.objects.filter(grantor=karen).count() == 16
    assert PowerOfAttorney.objects.filter(attorney=karen).count() == 17
    assert set(PowerOfAttorney.objects.values_list("status", flat=True)) == set(Status.values)

    response = assert_same_count(page, small, django_assert_max_num_queries)
    html = response.content.decode()
    for mandate in PowerOfAttorney.objects.filter(grantor=karen).select_related("attorney"):
        assert mandate.attorney.name in html


def test_act_for_page_runs_the_same_queries_for_1_and_30_mandates(
    client, login, peter, karen, rights, clock, django_assert_max_num_queries
):
    make_mandate(karen, peter, rights[:2], Status.ACTIVE, clock)
    login(client, peter)
    url = reverse("attorney:act_for")

    def page():
        response = client.get(url)
        assert response.status_code == 200
        return response

    small = measure(page)

    # 30 more, received from 30 people in every status, and a few given by Peter himself.
    give_and_receive(peter, rights, clock, given=MIXED, received=MIXED * 5)
    in_force = PowerOfAttorney.objects.filter(attorney=peter, status=Status.ACTIVE).select_related("grantor")
    assert in_force.count() == 6

    response = assert_same_count(page, small, django_assert_max_num_queries)
    html = response.content.decode()
    for mandate in in_force:
        assert mandate.grantor.name in html


def test_acting_for_someone_costs_the_same_on_every_page_however_many_rights(
    client, login, karen, peter, rights, clock, django_assert_max_num_queries
):
    make_mandate(karen, peter, rights[:1], Status.ACTIVE, clock)
    login(client, peter)
    response = client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert response.status_code == 302
    assert client.session[ACTING_FOR_SESSION_KEY] == karen.pk

    def page():
        response = client.get(reverse("home"))
        assert response.status_code == 200
        assert response.wsgi_request.acting_for == karen
        return response

    small = measure(page)

    # Karen gives Peter many more rights, in several mandates and at several authorities; some
    # mandates end again, which must not matter either.
    more = rights[1:] + [RightFactory() for _ in range(10)]
    for n, chunk in enumerate([more[0:4], more[4:8], more[8:11], more[11:]]):
        make_mandate(karen, peter, chunk, Status.ACTIVE, clock)
        make_mandate(karen, peter, chunk + rights[:1], MIXED[2 + n], clock)
    assert len(more) == 14

    response = assert_same_count(page, small, django_assert_max_num_queries)
    assert len(response.wsgi_request.acting_rights) == 15
    html = response.content.decode()
    for right in more:
        assert right.name in html
