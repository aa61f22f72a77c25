from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import selectors, services
from .identity import identity_page_context
from .models import Language
from .tlog import entry_proof


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


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/account.html", {"mfa_enabled": is_mfa_enabled(request.user)})


@login_required
def identity(request: HttpRequest) -> HttpResponse:
    """Whether the account's CPR number is verified, and how to verify it."""
    return render(request, "portal/identity.html", identity_page_context(request))


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_for(request.user), 25).get_page(request.GET.get("side"))
    services.mark_notices_read(recipient=request.user, notice_ids=[n.pk for n in page])
    return render(request, "portal/notices.html", {"page": page})


@login_required
def log_entry_proof(request: HttpRequest, uuid) -> HttpResponse:
    """One's own audit entry with its inclusion proof against the latest signed checkpoint, to
    check outside the portal (see docs/audit-log.md)."""
    event = selectors.visible_event(user=request.user, uuid=uuid)
    proof = entry_proof(event) if event is not None else None
    if proof is None:
        raise Http404
    return JsonResponse(proof, json_dumps_params={"indent": 2})
