"""Pages of organisations as attorneys: joining by invitation, and an organisation's own page,
where administrators manage members, accept powers of attorney and give access to them.

They live on the powers of attorney floor because access is access to mandates; the organisations
floor below keeps the organisations and their members."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organisations import selectors as organisation_selectors
from organisations import services as organisation_services
from portal.errors import Conflict, NotAllowed

from . import selectors


def _membership_or_404(request: HttpRequest, organisation_id: int):
    membership = organisation_selectors.membership_in(user=request.user, organisation_id=organisation_id)
    if membership is None:
        raise Http404
    return membership


def overview(request: HttpRequest) -> HttpResponse:
    """The organisations the person belongs to."""
    return render(
        request,
        "organisations/overview.html",
        {"memberships": organisation_selectors.memberships_of(request.user)},
    )


def detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """An organisation's page for its members: administrators see members and mandates."""
    membership = _membership_or_404(request, organisation_id)
    organisation = membership.organisation
    context = {"organisation": organisation, "membership": membership}
    if membership.is_administrator:
        context |= {
            "members": organisation_selectors.members_of(organisation),
            "mandates": selectors.organisation_mandates(organisation),
        }
    return render(request, "organisations/detail.html", context)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str) -> HttpResponse:
    """The invitation's link: shows who invites to what, and joins on the person's say-so."""
    invitation = organisation_services.invitation_by_code(code)
    if invitation is None or not invitation.invitation_is_open:
        return render(request, "organisations/join.html", {"invitation": None}, status=410)
    if request.method == "POST":
        try:
            membership = organisation_services.join_organisation(acting_user=request.user, code=code)
        except (Conflict, NotAllowed) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("You have joined %(name)s.") % {"name": membership.organisation.name})
            return redirect("organisations:detail", membership.organisation_id)
    return render(request, "organisations/join.html", {"invitation": invitation})
