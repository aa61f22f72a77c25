"""English pages write dates day-month-year and times on the 24-hour clock (portal/formats/en)."""

import datetime

from django.utils import formats, translation

MOMENT = datetime.datetime(2027, 2, 1, 14, 30)


def test_english_long_dates_put_the_day_first():
    with translation.override("en"):
        assert formats.date_format(MOMENT.date(), "DATE_FORMAT") == "1 February 2027"


def test_english_short_dates_are_day_month_year():
    with translation.override("en"):
        assert formats.date_format(MOMENT.date(), "SHORT_DATE_FORMAT") == "01/02/2027"


def test_english_times_use_the_24_hour_clock():
    with translation.override("en"):
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "01/02/2027 14:30"
        assert formats.time_format(MOMENT.time(), "TIME_FORMAT") == "14:30"


def test_english_date_fields_read_iso_dates_and_day_first_dates():
    from django import forms

    field = forms.DateField()
    with translation.override("en"):
        assert field.clean("2027-02-01") == MOMENT.date()
        assert field.clean("01/02/2027") == MOMENT.date()
