"""Whether the menu offers the organisation pages: only to people who belong to an organisation.

Asked once at login and kept in the session, so no page pays a query for it; joining and leaving in
the portal update it at once. Removal by an administrator shows in the removed person's menu from
their next login (until then the link leads to a page that says they belong to no organisation).
"""

from django.http import HttpRequest

from .selectors import is_member_of_any

MEMBER_SESSION_KEY = "organisation_member"


def remember_whether_member(request: HttpRequest, user) -> bool:
    member = bool(user.is_authenticated and is_member_of_any(user))
    if hasattr(request, "session"):
        request.session[MEMBER_SESSION_KEY] = member
    return member


def remember_on_login(sender, request, user, **kwargs) -> None:
    remember_whether_member(request, user)


def organisations(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_organisation_member": False}
    session = getattr(request, "session", {})
    member = session.get(MEMBER_SESSION_KEY)
    if member is None:  # a session from before this was remembered
        member = remember_whether_member(request, user)
    return {"is_organisation_member": member}
