import datetime

from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from authorities.catalogue.models import Right
from portal.eid import requires_substantial_assurance
from portal.forms import add_service_errors
from portal.selectors import events_about

from . import policy, selectors, services
from .acting import about_principal, tasks_for
from .forms import (
    AccessCodeForm,
    ActForForm,
    AnswerRequestForm,
    AttorneyKind,
    ChangeForm,
    GrantForm,
    ProofForm,
    ReasonForm,
    RenewForm,
    RequestForm,
    end_of,
)
from .middleware import ACTING_FOR_SESSION_KEY
from .models import JointMode, Status

DRAFT_SESSION_KEY = "power_of_attorney_draft"


def _mandate_or_404(request: HttpRequest, mandate_id) -> "selectors.PowerOfAttorney":
    # Someone else's mandate answers 404 so its existence does not leak.
    mandate = selectors.visible_mandate(user=request.user, mandate_id=mandate_id)
    if mandate is None:
        raise Http404
    return mandate


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    given = list(selectors.mandates_given(request.user).order_by("-created_at"))
    received = list(selectors.mandates_received(request.user).order_by("-created_at"))
    invitations = list(selectors.invitations_for(request.user))
    by_status = lambda mandates: [  # noqa: E731
        (label, [m for m in mandates if m.status == status])
        for status, label in Status.choices
        if any(m.status == status for m in mandates)
    ]
    return render(
        request,
        "attorney/overview.html",
        {
            "given_groups": by_status(given),
            "received_groups": by_status([m for m in received if m.status != Status.PENDING]),
            "invitations": invitations,
            "open_requests": selectors.open_requests_to(request.user),
            "my_requests": selectors.requests_made_by(request.user)[:20],
        },
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not request.user.national_id:
        messages.error(request, _("Your account has no CPR number, so you cannot give a power of attorney."))
        return redirect("attorney:overview")
    draft = request.session.get(DRAFT_SESSION_KEY)
    # Coming back from the summary to change something, the form shows the draft.
    initial = _form_initial(draft) if draft else {"valid_from": datetime.date.today()}
    form = GrantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _attorney_checked(request, form):
        request.session[DRAFT_SESSION_KEY] = _draft_of(form)
        return redirect("attorney:confirm")
    return render(request, "attorney/create.html", {"form": form})


def _form_initial(draft: dict) -> dict:
    return {
        "attorney_kind": draft.get("attorney_kind") or AttorneyKind.PERSON,
        "attorney_national_id": draft["attorney_national_id"],
        "attorney_name": draft["attorney_name"],
        "cvr": draft.get("cvr", ""),
        "organisation_name": draft.get("organisation_name", ""),
        "second_attorney_national_id": draft.get("second_attorney_national_id", ""),
        "second_attorney_name": draft.get("second_attorney_name", ""),
        "mode": draft.get("mode") or JointMode.SEVERALLY,
        "rights": draft["rights"],
        "valid_from": datetime.datetime.fromisoformat(draft["valid_from"]).date(),
        "valid_until": datetime.datetime.fromisoformat(draft["valid_until"]).date(),
    }


def _draft_of(form: GrantForm) -> dict:
    """What the summary shows and confirming creates, kept in the session in between."""
    cleaned = form.cleaned_data
    second = form.has_second_attorney
    return {
        "attorney_kind": cleaned["attorney_kind"],
        "attorney_national_id": cleaned["attorney_national_id"],
        "attorney_name": cleaned["attorney_name"],
        "cvr": cleaned["cvr"],
        "organisation_name": cleaned["organisation_name"],
        "second_attorney_national_id": cleaned["second_attorney_national_id"] if second else "",
        "second_attorney_name": cleaned["second_attorney_name"] if second else "",
        "mode": cleaned["mode"] if second else "",
        "rights": [right.pk for right in cleaned["chosen_rights"]],
        "valid_from": cleaned["valid_from_at"].isoformat(),
        "valid_until": cleaned["valid_until_at"].isoformat(),
    }


def _attorney_checked(request: HttpRequest, form: GrantForm) -> bool:
    """An organisation must be registered under the CVR number and name typed (said on the fields,
    and its registered name kept for the summary); a person's CPR number and name are checked only
    when confirming, at a limited pace (``may_check_cpr_and_name``)."""
    if not form.for_organisation:
        return may_check_cpr_and_name(request, form)
    try:
        organisation = services.organisation_to_appoint(
            cvr=form.cleaned_data["cvr"], organisation_name=form.cleaned_data["organisation_name"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    form.cleaned_data["organisation_name"] = organisation.name
    return True


def may_check_cpr_and_name(request: HttpRequest, form) -> bool:
    """Each CPR number and name typed into a form is a question about a person: a few an hour per
    account, so nobody can run through a list of numbers."""
    questions = 2 if getattr(form, "has_second_attorney", False) else 1
    if all(ratelimit.consume(request, action="cpr_name_check", user=request.user) for _ in range(questions)):
        return True
    form.add_error(
        None, _("You have entered many CPR numbers in a short time. Wait an hour, then try again.")
    )
    return False


def _draft(request: HttpRequest) -> dict | None:
    draft = request.session.get(DRAFT_SESSION_KEY)
    if not draft:
        return None
    rights = list(
        Right.objects.filter(pk__in=draft["rights"]).select_related("service__authority").order_by("code")
    )
    return {
        **draft,
        "rights": rights,
        "valid_from": datetime.datetime.fromisoformat(draft["valid_from"]),
        "valid_until": datetime.datetime.fromisoformat(draft["valid_until"]),
    }


@login_required
@requires_substantial_assurance
@reauthentication_required(allow_get=True)
def confirm(request: HttpRequest) -> HttpResponse:
    """The summary in plain words; confirming is a legal act and asks for the password again."""
    draft = _draft(request)
    if draft is None:
        return redirect("attorney:create")
    if request.method == "POST":
        if draft.get("second_attorney_national_id"):
            return _grant_from_draft(request, _confirm_joint(request, draft))
        if draft.get("attorney_kind") == AttorneyKind.ORGANISATION:
            return _grant_from_draft(request, _confirm_organisation(request, draft))
        return _grant_from_draft(request, _confirm_person(request, draft))
    return render(request, "attorney/confirm.html", {"draft": draft})


def _grant_from_draft(request: HttpRequest, grant) -> HttpResponse:
    """Run the confirmed grant; on success forget the draft and say what happens next, else go back
    to the form with the service's reasons."""
    try:
        message, destination = grant()
    except ValidationError as error:
        for reason in error.messages:
            messages.error(request, reason)
        return redirect("attorney:create")
    del request.session[DRAFT_SESSION_KEY]
    messages.success(request, message)
    return redirect(*destination)


def _confirm_person(request: HttpRequest, draft: dict):
    def grant():
        mandate = services.grant_power_of_attorney(
            acting_user=request.user,
            attorney_national_id=draft["attorney_national_id"],
            attorney_name=draft["attorney_name"],
            rights=draft["rights"],
            valid_from=draft["valid_from"],
            valid_until=draft["valid_until"],
        )
        message = _("The power of attorney has been created. %(name)s must now accept it.") % {
            "name": mandate.attorney_name
        }
        return message, ("attorney:detail", mandate.pk)

    return grant


def _confirm_organisation(request: HttpRequest, draft: dict):
    """The confirmed summary names an organisation: one of its administrators must accept."""

    def grant():
        mandate = services.grant_power_of_attorney_to_organisation(
            acting_user=request.user,
            cvr=draft["cvr"],
            organisation_name=draft["organisation_name"],
            rights=draft["rights"],
            valid_from=draft["valid_from"],
            valid_until=draft["valid_until"],
        )
        message = _(
            "The power of attorney has been created. An administrator of %(name)s must now accept it."
        ) % {"name": mandate.attorney_name}
        return message, ("attorney:detail", mandate.pk)

    return grant


def _confirm_joint(request: HttpRequest, draft: dict):
    """The confirmed summary names two attorneys: one appointment, a mandate for each."""

    def grant():
        services.grant_joint_power_of_attorney(
            acting_user=request.user,
            attorneys=[
                (draft["attorney_national_id"], draft["attorney_name"]),
                (draft["second_attorney_national_id"], draft["second_attorney_name"]),
            ],
            mode=draft["mode"],
            rights=draft["rights"],
            valid_from=draft["valid_from"],
            valid_until=draft["valid_until"],
        )
        message = _(
            "The power of attorney has been created. %(first)s and %(second)s must now each accept it."
        ) % {"first": draft["attorney_name"], "second": draft["second_attorney_name"]}
        return message, ("attorney:overview",)

    return grant


@login_required
def detail(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    if mandate.organisation_id and mandate.grantor_id != request.user.pk:
        # An organisation's administrators answer and manage its mandates on its own pages (the
        # notices they get about a mandate link here).
        return redirect("organisations:mandate", mandate.organisation_id, mandate.pk)
    is_grantor = mandate.grantor_id == request.user.pk
    return render(
        request,
        "attorney/detail.html",
        {
            "mandate": mandate,
            "is_grantor": is_grantor,
            "members_acting": selectors.members_acting_through(mandate) if is_grantor else [],
            "is_attorney": mandate.attorney_id == request.user.pk,
            "history": events_about(target_type="powerofattorney", target_id=str(mandate.pk)),
            "renew_form": RenewForm() if is_grantor and mandate.status == Status.ACTIVE else None,
            "access_codes": selectors.access_codes_of(mandate),
            "access_code_form": AccessCodeForm() if mandate.is_in_force else None,
        },
    )


@login_required
def invitation(request: HttpRequest, mandate_id) -> HttpResponse:
    """An invitation addressed to the user's CPR number, before they have accepted it."""
    mandate = selectors.invitations_for(request.user).filter(pk=mandate_id).first()
    if mandate is None:
        raise Http404
    return render(request, "attorney/invitation.html", {"mandate": mandate})


@login_required
@requires_substantial_assurance
@require_POST
def accept(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = selectors.invitations_for(request.user).filter(pk=mandate_id).first()
    if mandate is None:
        raise Http404
    try:
        services.accept(power_of_attorney=mandate, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("attorney:overview")
    messages.success(
        request, _("You have accepted the power of attorney from %(name)s.") % {"name": mandate.grantor.name}
    )
    return redirect("attorney:detail", mandate.pk)


@login_required
@requires_substantial_assurance
@require_POST
def decline(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = selectors.invitations_for(request.user).filter(pk=mandate_id).first()
    if mandate is None:
        raise Http404
    try:
        services.decline(power_of_attorney=mandate, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("attorney:overview")
    messages.success(request, _("You have declined the power of attorney."))
    return redirect("attorney:overview")


def _end_view(request: HttpRequest, mandate_id, *, role: str, template: str, action) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    party_id = mandate.grantor_id if role == "grantor" else mandate.attorney_id
    if party_id != request.user.pk:
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(mandate, form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("attorney:detail", mandate.pk)
        return redirect("attorney:detail", mandate.pk)
    return render(request, template, {"mandate": mandate, "form": form})


@login_required
@requires_substantial_assurance
@reauthentication_required(allow_get=True)
def revoke(request: HttpRequest, mandate_id) -> HttpResponse:
    def do(mandate, reason):
        services.revoke(power_of_attorney=mandate, acting_user=request.user, reason=reason)
        messages.success(request, _("The power of attorney has been revoked. It no longer works."))

    return _end_view(request, mandate_id, role="grantor", template="attorney/revoke.html", action=do)


@login_required
@requires_substantial_assurance
def resign(request: HttpRequest, mandate_id) -> HttpResponse:
    def do(mandate, reason):
        services.resign(power_of_attorney=mandate, acting_user=request.user, reason=reason)
        if request.session.get(ACTING_FOR_SESSION_KEY) == mandate.grantor_id:
            del request.session[ACTING_FOR_SESSION_KEY]
        messages.success(request, _("You have resigned from the power of attorney."))

    return _end_view(request, mandate_id, role="attorney", template="attorney/resign.html", action=do)


@login_required
@requires_substantial_assurance
@require_POST
@reauthentication_required
def renew(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    if mandate.grantor_id != request.user.pk:
        raise Http404
    form = RenewForm(request.POST)
    if form.is_valid():
        try:
            new = services.renew(
                power_of_attorney=mandate,
                acting_user=request.user,
                valid_until=end_of(form.cleaned_data["valid_until"]),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("attorney:detail", mandate.pk)
        messages.success(request, _("The power of attorney has been renewed."))
        return redirect("attorney:detail", new.pk)
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect("attorney:detail", mandate.pk)


@login_required
@requires_substantial_assurance
@reauthentication_required(allow_get=True)
def change(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    if mandate.grantor_id != request.user.pk or mandate.status not in (Status.ACTIVE, Status.PENDING):
        raise Http404
    initial = {
        "rights": [right.pk for right in mandate.rights.all()],
        "valid_from": datetime.date.today(),
        "valid_until": mandate.valid_until.date(),
    }
    form = ChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.change(
                power_of_attorney=mandate,
                acting_user=request.user,
                rights=form.cleaned_data["chosen_rights"],
                valid_from=form.cleaned_data["valid_from_at"],
                valid_until=form.cleaned_data["valid_until_at"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "The change has been sent to %(name)s. The old power of attorney applies until they accept."
                )
                % {"name": new.attorney_name},
            )
            return redirect("attorney:detail", new.pk)
    return render(request, "attorney/change.html", {"form": form, "mandate": mandate})


# --- Acting for someone ---------------------------------------------------------------------


@about_principal
@login_required
@requires_substantial_assurance
def act_for(request: HttpRequest) -> HttpResponse:
    # By power of attorney or by law (parental custody, guardianship): the policy gathers both.
    grantors = {
        p.person.pk: {
            "grantor": p.person,
            "rights": p.rights,
            "bases": p.bases,
            "organisations": p.organisations,
        }
        for p in policy.principals_in_force(actor=request.user)
    }
    if request.method == "POST":
        form = ActForForm(request.POST)
        if form.is_valid() and form.cleaned_data["grantor"] in grantors:
            request.session[ACTING_FOR_SESSION_KEY] = form.cleaned_data["grantor"]
            name = grantors[form.cleaned_data["grantor"]]["grantor"].name
            messages.success(request, _("You are now acting for %(name)s.") % {"name": name})
            return redirect("attorney:act_for")
        messages.error(request, _("You cannot act for this person: there is no power of attorney in force."))
        return redirect("attorney:act_for")
    entries = list(grantors.values())
    # The rights of the person acted for now lead straight to their tasks.
    acting = grantors.get(getattr(request.acting_for, "pk", None))
    tasks = tasks_for(acting["rights"]) if acting else {}
    for entry in entries:
        entry["rights_with_tasks"] = [(right, tasks.get(right.pk)) for right in entry["rights"]]
    return render(request, "attorney/act_for.html", {"entries": entries})


@login_required
@require_POST
def stop_acting(request: HttpRequest) -> HttpResponse:
    request.session.pop(ACTING_FOR_SESSION_KEY, None)
    messages.info(request, _("You are no longer acting for another person."))
    return redirect("attorney:act_for")


@about_principal
@login_required
def use_right(request: HttpRequest, right_code: str) -> HttpResponse:
    """What the user may do with one right for the person they act for, or why not."""
    right = Right.objects.select_related("service__authority").filter(code=right_code).first()
    principal = request.acting_for
    if right is None or principal is None:
        raise Http404
    decision = policy.authorize(actor=request.user, principal=principal, right=right)
    if decision.permitted:
        task = tasks_for([right]).get(right.pk)
        return render(
            request, "attorney/use_right.html", {"right": right, "principal": principal, "task": task}
        )
    return not_covered(request, principal=principal, right=right, decision=decision)


def not_covered(request: HttpRequest, *, principal, right: Right, decision) -> HttpResponse:
    """Say in plain words why the attorney cannot do this, and offer to ask for the right (or, when
    a power of attorney with it waits for their answer, to answer that)."""
    query = urlencode({"cpr": principal.national_id or "", "name": principal.name, "right": right.code})
    return render(
        request,
        "attorney/not_covered.html",
        {
            "right": right,
            "principal": principal,
            "decision": decision,
            "waiting_offer": selectors.offer_waiting_for(
                attorney=request.user, grantor=principal, right=right
            ),
            "request_url": f"{reverse('attorney:request_create')}?{query}",
        },
        status=403,
    )


# --- Requests from a relative ---------------------------------------------------------------


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    initial = {
        "grantor_national_id": request.GET.get("cpr", "")[:11],
        "grantor_name": request.GET.get("name", "")[:200],
        "rights": list(Right.objects.filter(code=request.GET.get("right", "")).values_list("pk", flat=True)),
    }
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and may_check_cpr_and_name(request, form):
        try:
            services.request_power_of_attorney(
                acting_user=request.user,
                grantor_national_id=form.cleaned_data["grantor_national_id"],
                grantor_name=form.cleaned_data["grantor_name"],
                rights=form.cleaned_data["chosen_rights"],
                valid_until=end_of(form.cleaned_data["valid_until"]),
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request has been sent."))
            return redirect("attorney:overview")
    return render(request, "attorney/request_create.html", {"form": form})


@login_required
@requires_substantial_assurance
@reauthentication_required(allow_get=True)
def request_answer(request: HttpRequest, request_id) -> HttpResponse:
    attorney_request = selectors.open_request_to(grantor=request.user, request_id=request_id)
    if attorney_request is None:
        raise Http404
    decision = request.POST.get("decision") if request.method == "POST" else None
    form = AnswerRequestForm(
        request.POST if decision == "approve" else None,
        attorney_request=attorney_request,
        initial={
            "rights": [right.pk for right in attorney_request.rights.all()],
            "valid_until": attorney_request.valid_until.date(),
        },
    )
    try:
        if decision == "reject":
            block = request.POST.get("block") == "on"
            services.reject_request(attorney_request=attorney_request, acting_user=request.user, block=block)
            messages.success(request, _("You have rejected the request."))
            return redirect("attorney:overview")
        if decision == "approve" and form.is_valid():
            mandate = services.approve_request(
                attorney_request=attorney_request,
                acting_user=request.user,
                rights=form.cleaned_data["rights"],
                valid_until=end_of(form.cleaned_data["valid_until"]),
            )
            messages.success(
                request, _("You have given %(name)s a power of attorney.") % {"name": mandate.attorney_name}
            )
            return redirect("attorney:detail", mandate.pk)
    except ValidationError as error:
        add_service_errors(form, error)
    return render(
        request, "attorney/request_answer.html", {"attorney_request": attorney_request, "form": form}
    )


# --- Access codes --------------------------------------------------------------------------


@login_required
@require_POST
def access_code_create(request: HttpRequest, mandate_id) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    form = AccessCodeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("attorney:detail", mandate.pk)
    try:
        access_code, code = services.create_access_code(
            power_of_attorney=mandate, acting_user=request.user, label=form.cleaned_data["label"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("attorney:detail", mandate.pk)
    # The code is shown only on this page; the portal keeps a hash of it.
    return render(
        request,
        "attorney/access_code_created.html",
        {"mandate": mandate, "access_code": access_code, "code": code},
    )


@login_required
@require_POST
def access_code_revoke(request: HttpRequest, mandate_id, code_id) -> HttpResponse:
    mandate = _mandate_or_404(request, mandate_id)
    access_code = mandate.access_codes.filter(pk=code_id).first()
    if access_code is None:
        raise Http404
    services.revoke_access_code(access_code=access_code, acting_user=request.user)
    messages.success(request, _("The access code no longer works."))
    return redirect("attorney:detail", mandate.pk)


@never_cache  # shows a person's power of attorney to someone who is not signed in
def proof(request: HttpRequest) -> HttpResponse:
    """The public page where an organisation checks a power of attorney with a code and a surname."""
    form = ProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code_key = services.hash_access_code(form.cleaned_data["code"])
        if not ratelimit.consume(request, action="access_code", key=code_key):
            return render(request, "attorney/proof.html", {"form": form, "limited": True}, status=429)
        mandate = services.view_with_access_code(
            code=form.cleaned_data["code"],
            surname=form.cleaned_data["surname"],
            viewer_label=form.cleaned_data["organisation"],
        )
        if mandate is not None:
            mandate = selectors.mandate_summary(mandate.pk)
            return render(
                request, "attorney/proof_summary.html", {"mandate": mandate, "checked_at": timezone.now()}
            )
        form.add_error(
            None, _("We found no power of attorney with this code and surname. Check both and try again.")
        )
    return render(request, "attorney/proof.html", {"form": form})
