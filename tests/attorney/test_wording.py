"""Wording on the pages: nothing said twice."""

from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import translation

from attorney.forms import AccessCodeForm


def right(name: str, authority: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, service=SimpleNamespace(authority=SimpleNamespace(name=authority)))


def test_an_optional_field_says_optional_once():
    with translation.override("da"):
        html = render_to_string("includes/field.html", {"field": AccessCodeForm()["label"]})
    assert html.count("valgfrit") == 1


def test_a_right_named_after_its_authority_does_not_repeat_the_authority():
    shown = render_to_string(
        "attorney/_right_name.html",
        {"right": right("Læse post fra Københavns Kommune", "Københavns Kommune")},
    )
    assert shown == "Læse post fra Københavns Kommune"


def test_a_right_not_named_after_its_authority_names_it_in_brackets():
    shown = render_to_string(
        "attorney/_right_name.html", {"right": right("Se årsopgørelsen", "Skattestyrelsen")}
    )
    assert shown == "Se årsopgørelsen (Skattestyrelsen)"
