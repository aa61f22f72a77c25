from django import template
from django.forms import BoundField
from django.utils import timezone

from portal.cpr import format_cpr

register = template.Library()

_INPUT_CLASS = {
    "select": "form-select",
    "textarea": "form-input",
    "checkbox": "form-checkbox",
    "radioselect": "form-radio",
    "checkboxselectmultiple": "form-checkbox",
    "clearablefile": "form-file-input",
    "file": "form-file-input",
}


@register.filter
def dkfds_widget(field: BoundField):
    """Render a form field's widget with the design system's class and links to its hint and errors."""
    css_class = _INPUT_CLASS.get(field.widget_type, "form-input")
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
    if field.errors:
        described_by.append(f"{field.auto_id}_error")
    attrs = {"class": css_class}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def cpr(value: str) -> str:
    return format_cpr(value)


@register.simple_tag
def now_local():
    return timezone.localtime()
