import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from portal.cpr import birth_date, format_cpr, normalize_cpr


@pytest.mark.parametrize("typed", ["010245-1234", "0102451234", " 010245-1234 ", "010245 1234"])
def test_cpr_is_accepted_with_or_without_hyphen(typed):
    assert normalize_cpr(typed) == "0102451234"


@pytest.mark.parametrize(
    "typed",
    ["", "123", "01024512345", "010245-123", "abcdef-ghij", "010245--1234", "01-02-45-1234"],
)
def test_cpr_with_wrong_shape_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        normalize_cpr(typed)
    assert error.value.code == "cpr_format"


@pytest.mark.parametrize("typed", ["320145-1234", "001045-1234", "011345-1234", "290223-1234", "310445-1234"])
def test_cpr_with_impossible_date_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        normalize_cpr(typed)
    assert error.value.code == "cpr_date"


@pytest.mark.parametrize(
    ("cpr", "year"),
    [
        ("0101450123", 1945),  # 7th digit 0-3: 1900s
        ("0101453123", 1945),
        ("0101104123", 2010),  # 4: 00-36 → 2000s
        ("0101454123", 1945),  # 4: 37-99 → 1900s
        ("0101105123", 2010),  # 5-8: 00-57 → 2000s
        ("0101656123", 1865),  # 5-8: 58-99 → 1800s
        ("0101209123", 2020),  # 9: 00-36 → 2000s
        ("0101509123", 1950),  # 9: 37-99 → 1900s
    ],
)
def test_century_follows_the_seventh_digit(cpr, year):
    assert birth_date(cpr).year == year


def test_29_february_2000_is_valid():
    assert normalize_cpr("290200-4123") == "2902004123"


def test_29_february_1900_is_refused():
    with pytest.raises(ValidationError):
        normalize_cpr("290200-0123")


def test_format_cpr_adds_the_hyphen():
    assert format_cpr("0102451234") == "010245-1234"


@given(st.dates(min_value=datetime.date(1858, 1, 1), max_value=datetime.date(2036, 12, 31)))
def test_every_real_birth_date_has_a_cpr_that_round_trips(day):
    year = day.year
    if year < 1900:
        seventh = 5
    elif year >= 2000:
        seventh = 4
    else:
        seventh = 0
    cpr = f"{day:%d%m}{year % 100:02d}{seventh}123"
    assert birth_date(normalize_cpr(cpr)) == day
