import re
import uuid

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from .audit import current_request_id

# What a load balancer's or client's request id looks like (a UUID, hex, a short token). Anything
# else — long, non-ASCII, control characters, empty — is replaced by our own, because the id goes
# into audit rows, logs and a response header, where such text would not fit or would mislead.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_from(header: str | None) -> str:
    """The client's request id if it has the shape of one, else a new one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id (or keep the load balancer's) so audit events can be traced to it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def api_language(header: str) -> str:
    """The language of an API answer: Danish or English as the client asks, else English."""
    for code, _quality in parse_accept_lang_header(header[:255]):
        if code.split("-")[0].lower() in ("da", "en"):
            return code.split("-")[0].lower()
    return "en"


class PreferredLanguageMiddleware:
    """Use the language saved on the account when the browser has not picked one with the switch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            # Machines get English unless they ask for Danish: a system that sends no preference
            # should not have to read the portal's default language in its error answers.
            language = api_language(request.headers.get("Accept-Language", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.preferred_language
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class StaffMFAMiddleware:
    """Staff cannot open the admin until they have two-factor authentication set up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        admin_prefix = reverse("admin:index")
        if (
            request.path.startswith(admin_prefix)
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request,
                _("Staff accounts must use two-factor authentication. Set it up to open the admin."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class NoStoreMiddleware:
    """No browser or proxy may keep a copy of what a signed-in person or an API client was shown.

    Letters, PDFs and every page about someone's affairs are only shown to a signed-in person, and
    API answers are about citizens, so all of those answers get ``Cache-Control: no-store``. Static
    files are answered by WhiteNoise before this middleware and keep their long cache headers; the
    few public pages with personal data (the access-code check) say ``never_cache`` themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if (user is not None and user.is_authenticated) or (match is not None and "api" in match.namespaces):
            add_never_cache_headers(response)
        return response
