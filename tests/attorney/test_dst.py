"""Periods are chosen as Danish calendar days, stored as UTC instants and shown in Danish time.

The two days that matter are those when Denmark changes clock: on 28 March 2027 the clock jumps
from 02:00 to 03:00 (the day has 23 hours, the evening is CEST = UTC+2) and on 31 October 2027 it
falls back from 03:00 to 02:00 (25 hours, the evening is CET = UTC+1). A power of attorney "until
and including" such a day must end at 23:59:59 Danish time, which is a different UTC instant on
each side of the change.
"""

import datetime
import re
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse

from attorney import policy, services
from attorney.forms import end_of, start_of
from portal.models import User

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
SPRING_FORWARD = datetime.date(2027, 3, 28)
FALL_BACK = datetime.date(2027, 10, 31)

# (day, its end in UTC, its start in UTC, how long "the whole day" lasts until 23:59:59)
DAYS = [
    pytest.param(
        SPRING_FORWARD,
        datetime.datetime(2027, 3, 28, 21, 59, 59, tzinfo=UTC),
        datetime.datetime(2027, 3, 27, 23, 0, 0, tzinfo=UTC),
        datetime.timedelta(hours=22, minutes=59, seconds=59),
        id="spring-forward",
    ),
    pytest.param(
        FALL_BACK,
        datetime.datetime(2027, 10, 31, 22, 59, 59, tzinfo=UTC),
        datetime.datetime(2027, 10, 30, 22, 0, 0, tzinfo=UTC),
        datetime.timedelta(hours=24, minutes=59, seconds=59),
        id="fall-back",
    ),
]


def test_the_portal_runs_on_danish_time():
    assert settings.TIME_ZONE == "Europe/Copenhagen"
    assert settings.USE_TZ


@pytest.mark.parametrize(("day", "end_utc", "start_utc", "length"), DAYS)
def test_end_of_day_is_the_right_utc_instant(day, end_utc, start_utc, length, time_machine):
    # Chosen some weeks ahead, so start_of() gives midnight and not "now".
    time_machine.move_to(datetime.datetime(2027, 3, 1, 12, tzinfo=UTC), tick=False)
    end = end_of(day)
    start = start_of(day)
    assert end == end_utc
    assert end.utcoffset() == (datetime.timedelta(hours=2) if day.month == 3 else datetime.timedelta(hours=1))
    assert start == start_utc
    # In Danish wall-clock time it is 00:00:00 to 23:59:59 on the chosen day.
    local_start, local_end = start.astimezone(COPENHAGEN), end.astimezone(COPENHAGEN)
    assert (local_start.date(), local_start.time()) == (day, datetime.time(0, 0))
    assert (local_end.date(), local_end.time()) == (day, datetime.time(23, 59, 59))
    # The day is 23 or 25 hours long; a computation in naive local or UTC time would give 24.
    # (Python subtracts two datetimes with the same tzinfo on the wall clock, so compare in UTC.)
    assert end.astimezone(UTC) - start.astimezone(UTC) == length
    assert end - start == datetime.timedelta(hours=23, minutes=59, seconds=59)


@pytest.fixture
def one_day_mandate(karen, peter, read_mail, time_machine):
    """Karen gives Peter read_mail for exactly one Danish calendar day, chosen three weeks ahead."""

    def _make(day: datetime.date):
        time_machine.move_to(
            datetime.datetime.combine(day - datetime.timedelta(days=21), datetime.time(12), tzinfo=UTC),
            tick=False,
        )
        mandate = services.grant_power_of_attorney(
            acting_user=karen,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=[read_mail],
            valid_from=start_of(day),
            valid_until=end_of(day),
        )
        return services.accept(power_of_attorney=mandate, acting_user=peter)

    return _make


def fresh(user: User) -> User:
    """A new instance, so no permission cache from an earlier moment answers for a later one."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(("day", "end_utc", "start_utc", "length"), DAYS)
def test_acting_stops_at_the_utc_instant_of_the_danish_midnight(
    one_day_mandate, karen, peter, read_mail, time_machine, day, end_utc, start_utc, length
):
    mandate = one_day_mandate(day)
    mandate.refresh_from_db()
    assert mandate.valid_until == end_utc
    second = datetime.timedelta(seconds=1)

    # Before the day starts (in Danish time) the mandate does not work yet.
    time_machine.move_to(start_utc - second, tick=False)
    assert not policy.can_act_for(fresh(peter), fresh(karen), read_mail)
    time_machine.move_to(start_utc, tick=False)
    assert policy.can_act_for(fresh(peter), fresh(karen), read_mail)

    time_machine.move_to(end_utc - second, tick=False)
    assert policy.can_act_for(fresh(peter), fresh(karen), read_mail)
    # valid_until itself is the first moment outside: the period is [valid_from, valid_until).
    time_machine.move_to(end_utc, tick=False)
    assert not policy.can_act_for(fresh(peter), fresh(karen), read_mail)
    time_machine.move_to(end_utc + second, tick=False)
    assert not policy.can_act_for(fresh(peter), fresh(karen), read_mail)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).reason == "expired"

    # Asked afterwards about those moments, the history gives the same answers.
    assert policy.can_act_for(peter, karen, read_mail, at=end_utc - second)
    assert not policy.can_act_for(peter, karen, read_mail, at=end_utc + second)
    # One hour after the end in naive UTC terms would still be "the same day" if the portal
    # compared in the wrong zone; it is not allowed.
    assert not policy.can_act_for(peter, karen, read_mail, at=end_utc + datetime.timedelta(hours=1))


def dd_after(label: str, html: str) -> str:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", html)
    assert match, f"no <dt>{label}</dt> on the page"
    return match.group(1).strip()


@pytest.mark.parametrize(
    ("day", "language", "valid_from_label", "valid_until_label", "shown", "not_shown"),
    [
        (SPRING_FORWARD, "da", "Gyldig fra", "Gyldig til og med", "28. marts 2027", "27. marts 2027"),
        (SPRING_FORWARD, "en", "Valid from", "Valid until and including", "28 March 2027", "27 March 2027"),
        (FALL_BACK, "da", "Gyldig fra", "Gyldig til og med", "31. oktober 2027", "30. oktober 2027"),
        (FALL_BACK, "en", "Valid from", "Valid until and including", "31 October 2027", "30 October 2027"),
    ],
    ids=["spring-forward-da", "spring-forward-en", "fall-back-da", "fall-back-en"],
)
def test_detail_page_shows_the_danish_calendar_day(
    client,
    login,
    one_day_mandate,
    karen,
    day,
    language,
    valid_from_label,
    valid_until_label,
    shown,
    not_shown,
):
    """valid_from is 23:00 or 22:00 UTC on the day before: shown in UTC it would be the wrong day."""
    mandate = one_day_mandate(day)
    login(client, karen)
    if language == "en":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("attorney:detail", args=[mandate.pk]))
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    html = response.content.decode()
    assert dd_after(valid_from_label, html) == shown
    assert dd_after(valid_until_label, html) == shown
    assert not_shown not in html
