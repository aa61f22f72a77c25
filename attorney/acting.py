"""Whose affairs a page is about while the user acts for someone (see attorney.middleware)."""

from django.http import HttpRequest


def principal_of(request: HttpRequest):
    """The person whose affairs the page shows: the one being acted for, or the user."""
    return request.acting_for or request.user
