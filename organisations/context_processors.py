from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import is_member_of_any


def organisations(request: HttpRequest) -> dict:
    """Whether the menu offers the organisation pages: asked once, and only by a page that shows
    the menu (a signed-in person's)."""
    user = getattr(request, "user", None)
    return {
        "is_organisation_member": SimpleLazyObject(
            lambda: bool(user is not None and user.is_authenticated and is_member_of_any(user))
        )
    }
