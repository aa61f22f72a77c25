"""Pages of organisations as attorneys: joining by invitation, and an organisation's own page,
where administrators manage members, accept powers of attorney and give access to them.

They live on the powers of attorney floor because access is access to mandates; the organisations
floor below keeps the organisations and their members.

Who may see what: a person who is not a current member gets 404 for everything of the
organisation (its existence in the portal is not theirs to learn from an address); a member who is
not an administrator gets 403 for the administrators' pages and actions.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from organisations import selectors as organisation_selectors
from organisations import services as organisation_services
from organisations.context_processors import remember_whether_member
from organisations.models import Membership
from portal.eid import requires_substantial_assurance
from portal.errors import Conflict, NotAllowed
from portal.forms import add_service_errors

from . import selectors, services
from .forms import ReasonForm
from .organisation_forms import AccessForm, InviteForm, RoleForm

# Where the access forms send the administrator back to: the member's page or the mandate's.
BACK_TO_MANDATE = "fuldmagt"


def _membership_or_404(request: HttpRequest, organisation_id: int) -> Membership:
    membership = organisation_selectors.membership_in(user=request.user, organisation_id=organisation_id)
    if membership is None:
        raise Http404
    return membership


def _administrator(request: HttpRequest, organisation_id: int) -> Membership:
    """The person's membership if they administer the organisation; 404 for non-members, 403 else."""
    membership = _membership_or_404(request, organisation_id)
    if not membership.is_administrator:
        raise NotAllowed(_("Only an administrator of the organisation can do this."))
    return membership


def _member_or_404(organisation, membership_id) -> Membership:
    member = organisation_selectors.member_of(organisation=organisation, membership_id=membership_id)
    if member is None:
        raise Http404
    return member


def _mandate_or_404(organisation, mandate_id):
    mandate = selectors.organisation_mandate(organisation=organisation, mandate_id=mandate_id)
    if mandate is None:
        raise Http404
    return mandate


class ConfirmForm(forms.Form):
    """No fields: a "yes" button whose refusal by the service is shown on top of the page."""


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The organisations the person belongs to."""
    return render(
        request,
        "organisations/overview.html",
        {"memberships": organisation_selectors.memberships_of(request.user)},
    )


@login_required
def detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """An organisation's page: every member sees their role and the clients they may act for;
    administrators also see the members, and the powers of attorney with who may use them."""
    membership = _membership_or_404(request, organisation_id)
    organisation = membership.organisation
    context = {
        "organisation": organisation,
        "membership": membership,
        "clients": selectors.clients_of_member(membership),
    }
    if membership.is_administrator:
        context |= {
            "members": selectors.members_with_access(organisation),
            "mandates": selectors.organisation_mandates(organisation),
        }
    return render(request, "organisations/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """An administrator invites a person by email, as employee or administrator."""
    organisation = _administrator(request, organisation_id).organisation
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation_services.invite_member(
                acting_user=request.user, organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("An invitation has been sent to %(email)s.") % {"email": form.cleaned_data["email"]},
            )
            return redirect("organisations:detail", organisation.pk)
    return render(request, "organisations/invite.html", {"organisation": organisation, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def member(request: HttpRequest, organisation_id: int, membership_id) -> HttpResponse:
    """A member's page for the administrators: their role (changed here) and their access."""
    organisation = _administrator(request, organisation_id).organisation
    member = _member_or_404(organisation, membership_id)
    form = RoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            organisation_services.change_role(
                acting_user=request.user, membership=member, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The role of %(name)s has been changed.") % {"name": member.invited_name}
            )
            return redirect("organisations:member", organisation.pk, member.pk)
    return _member_page(request, member, form)


def _member_page(request: HttpRequest, member: Membership, form: RoleForm) -> HttpResponse:
    access = list(selectors.access_of_member(member))
    # Nothing more to give someone with access to all; else all, or a mandate they lack.
    has_all = any(item.is_for_all for item in access)
    mandates = [] if has_all else list(selectors.mandates_to_give(member))
    context = {
        "organisation": member.organisation,
        "member": member,
        "form": form,
        "access": access,
        "has_all": has_all,
        "access_form": AccessForm(members=[member], mandates=mandates) if member.has_joined else None,
    }
    return render(request, "organisations/member.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def end_membership(request: HttpRequest, organisation_id: int, membership_id) -> HttpResponse:
    """Leave the organisation yourself, or (an administrator) remove a member or withdraw an
    invitation: a page that says what it means, then the button."""
    own = _membership_or_404(request, organisation_id)
    member = _member_or_404(own.organisation, membership_id)
    leaving = member.pk == own.pk
    if not (leaving or own.is_administrator):
        raise NotAllowed(_("Only an administrator of the organisation can do this."))
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            organisation_services.end_membership(acting_user=request.user, membership=member)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _end_message(member, leaving=leaving))
            if leaving:
                remember_whether_member(request, request.user)
                return redirect("organisations:overview")
            return redirect("organisations:detail", own.organisation_id)
    context = {"organisation": own.organisation, "member": member, "leaving": leaving, "form": form}
    return render(request, "organisations/end_membership.html", context)


def _end_message(member: Membership, *, leaving: bool) -> str:
    names = {"name": member.invited_name, "organisation": member.organisation.name}
    if leaving:
        return _("You are no longer a member of %(organisation)s.") % names
    if not member.has_joined:
        return _("The invitation to %(name)s has been withdrawn.") % names
    return _("%(name)s is no longer a member of %(organisation)s.") % names


@login_required
def mandate(request: HttpRequest, organisation_id: int, mandate_id) -> HttpResponse:
    """A power of attorney given to the organisation: to accept or decline while it waits, and
    who may use it while it is in force."""
    organisation = _administrator(request, organisation_id).organisation
    mandate = _mandate_or_404(organisation, mandate_id)
    in_force = mandate.is_in_force()
    members = list(selectors.members_to_give(mandate)) if in_force else []
    return render(
        request,
        "organisations/mandate.html",
        {
            "organisation": organisation,
            "mandate": mandate,
            "in_force": in_force,
            "access_to_all": selectors.access_to_all_of(organisation) if in_force else [],
            "access_form": AccessForm(members=members, mandates=[mandate]) if in_force else None,
        },
    )


@login_required
@requires_substantial_assurance
@require_POST
def accept(request: HttpRequest, organisation_id: int, mandate_id) -> HttpResponse:
    """An administrator accepts the power of attorney for the organisation."""
    organisation = _administrator(request, organisation_id).organisation
    mandate = _mandate_or_404(organisation, mandate_id)
    try:
        services.accept(power_of_attorney=mandate, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "%(organisation)s has accepted the power of attorney from %(name)s. Give the members "
                "who will act for %(name)s access to it."
            )
            % {"organisation": organisation.name, "name": mandate.grantor.name},
        )
    return redirect("organisations:mandate", organisation.pk, mandate.pk)


@login_required
@requires_substantial_assurance
@require_POST
def decline(request: HttpRequest, organisation_id: int, mandate_id) -> HttpResponse:
    """An administrator declines the power of attorney for the organisation; the grantor is told."""
    organisation = _administrator(request, organisation_id).organisation
    mandate = _mandate_or_404(organisation, mandate_id)
    try:
        services.decline(power_of_attorney=mandate, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("organisations:mandate", organisation.pk, mandate.pk)
    messages.success(
        request,
        _("The power of attorney from %(name)s has been declined. %(name)s has been told.")
        % {"name": mandate.grantor.name},
    )
    return redirect("organisations:detail", organisation.pk)


@login_required
@requires_substantial_assurance
@require_http_methods(["GET", "POST"])
def resign(request: HttpRequest, organisation_id: int, mandate_id) -> HttpResponse:
    """An administrator ends the power of attorney on the organisation's behalf; the grantor is told."""
    organisation = _administrator(request, organisation_id).organisation
    mandate = _mandate_or_404(organisation, mandate_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.resign(
                power_of_attorney=mandate, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The organisation has resigned from the power of attorney."))
            return redirect("organisations:detail", organisation.pk)
    context = {"organisation": organisation, "mandate": mandate, "form": form}
    return render(request, "organisations/resign.html", context)


@login_required
@requires_substantial_assurance
@require_http_methods(["GET", "POST"])
def give_access(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """An administrator lets a member use one of the organisation's powers of attorney, or all."""
    organisation = _administrator(request, organisation_id).organisation
    members = list(organisation_selectors.members_of(organisation))
    mandates = list(selectors.mandates_in_force_of(organisation))
    initial = {"membership": request.GET.get("medlem"), "power_of_attorney": request.GET.get("fuldmagt")}
    form = AccessForm(request.POST or None, members=members, mandates=mandates, initial=initial)
    if request.method == "POST" and form.is_valid():
        member, chosen = form.chosen_member, form.chosen_mandate
        try:
            services.give_organisation_access(
                acting_user=request.user, membership=member, power_of_attorney=chosen
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s now has the access.") % {"name": member.user.name})
            return _back(request, organisation.pk, member=member, mandate=chosen)
    return render(request, "organisations/give_access.html", {"organisation": organisation, "form": form})


@login_required
@require_POST
def remove_access(request: HttpRequest, organisation_id: int, access_id) -> HttpResponse:
    """An administrator takes a member's access away; it stops at the member's next request."""
    organisation = _administrator(request, organisation_id).organisation
    access = selectors.organisation_access(organisation=organisation, access_id=access_id)
    if access is None:
        raise Http404
    try:
        services.remove_organisation_access(acting_user=request.user, access=access)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s no longer has the access.") % {"name": access.membership.user.name}
        )
    return _back(request, organisation.pk, member=access.membership, mandate=access.power_of_attorney)


def _back(request: HttpRequest, organisation_id: int, *, member: Membership, mandate) -> HttpResponse:
    if mandate is not None and request.POST.get("tilbage") == BACK_TO_MANDATE:
        return redirect("organisations:mandate", organisation_id, mandate.pk)
    return redirect("organisations:member", organisation_id, member.pk)


@login_required
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
            remember_whether_member(request, request.user)
            messages.success(request, _("You have joined %(name)s.") % {"name": membership.organisation.name})
            return redirect("organisations:detail", membership.organisation_id)
    return render(request, "organisations/join.html", {"invitation": invitation})
