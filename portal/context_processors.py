from django.conf import settings


def _page_about_principal(request) -> bool:
    # Set by attorney.acting: the view asked whose affairs it shows, or is marked as about them.
    if getattr(request, "about_principal", False):
        return True
    match = getattr(request, "resolver_match", None)
    return bool(match is not None and getattr(match.func, "about_principal", False))


def portal(request) -> dict:
    return {
        "portal_owner": settings.PORTAL_OWNER,
        "portal_contact_email": settings.PORTAL_CONTACT_EMAIL,
        "portal_contact_phone": settings.PORTAL_CONTACT_PHONE,
        "acting_for": getattr(request, "acting_for", None),
        # Pages about the person acted for are marked (attorney.acting); on every other page the
        # layout says it is the user's own and offers to stop acting.
        "page_about_principal": _page_about_principal(request),
        # Each language is named in its own language, untranslated.
        "portal_languages": settings.LANGUAGES,
        # Seconds without activity before the session ends, for the timeout warning (portal.js).
        "session_seconds": settings.SESSION_COOKIE_AGE,
    }
