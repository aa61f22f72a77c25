from django import template

from organisations.cvr import format_cvr

register = template.Library()


@register.filter
def cvr(value: str) -> str:
    """A CVR number the way it is printed: ``12 34 56 78``."""
    return format_cvr(value or "")
