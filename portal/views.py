from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .identity import identity_page_context
from .models import Language


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


def accessibility_statement(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the person's account."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in Language.values:
        request.user.preferred_language = language
        request.user.save(update_fields=["preferred_language"])
    return set_language(request)


@require_POST
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """ "Stay logged in" in the timeout warning: any request renews the session (SESSION_SAVE_EVERY_REQUEST).
    Answers 204 while logged in, 401 once the session has ended, so the page knows which it is."""
    return HttpResponse(status=204 if request.user.is_authenticated else 401)


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/account.html", {"mfa_enabled": is_mfa_enabled(request.user)})


@login_required
def identity(request: HttpRequest) -> HttpResponse:
    """Whether the account's CPR number is verified, and how to verify it."""
    return render(request, "portal/identity.html", identity_page_context(request))
