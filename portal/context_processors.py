from django.conf import settings


def portal(request) -> dict:
    return {
        "portal_owner": settings.PORTAL_OWNER,
        "portal_contact_email": settings.PORTAL_CONTACT_EMAIL,
        "portal_contact_phone": settings.PORTAL_CONTACT_PHONE,
        "acting_for": getattr(request, "acting_for", None),
        # Each language is named in its own language, untranslated.
        "portal_languages": settings.LANGUAGES,
        # Seconds without activity before the session ends, for the timeout warning (portal.js).
        "session_seconds": settings.SESSION_COOKIE_AGE,
    }
