from django.contrib import messages
from django.db.models import Q
from django.utils.translation import gettext as _

from portal.audit import current_acting_basis

from .models import PowerOfAttorney
from .policy import authorize, principals_in_force

ACTING_FOR_SESSION_KEY = "acting_for"


class ActingForMiddleware:
    """Re-checks on every request that the person the user is acting for still allows it.

    The choice lives in the session; the mandates and legal representations are read again each
    time, so a revocation, resignation, expiry, the end of custody or a child's 18th birthday ends
    the acting at the very next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting_for = None
        request.acting_rights = []
        request.acting_bases = []
        request.acting_organisations = []
        grantor_id = request.session.get(ACTING_FOR_SESSION_KEY) if hasattr(request, "session") else None
        if grantor_id is not None:
            user = request.user
            found = principals_in_force(actor=user, principal_id=grantor_id) if user.is_authenticated else []
            if found:
                request.acting_for = found[0].person
                request.acting_rights = found[0].rights
                request.acting_bases = found[0].bases
                request.acting_organisations = found[0].organisations
            else:
                del request.session[ACTING_FOR_SESSION_KEY]
                if user.is_authenticated:
                    messages.warning(request, _acting_ended(user, grantor_id))
        if request.acting_for is None:
            return self.get_response(request)
        # What is done for the person now carries the bases it rests on (see portal.audit).
        organisations = tuple({"cvr": o.cvr, "name": o.name} for o in request.acting_organisations)
        token = current_acting_basis.set((request.acting_for.pk, tuple(request.acting_bases), organisations))
        try:
            return self.get_response(request)
        finally:
            current_acting_basis.reset(token)


def _acting_ended(user, grantor_id) -> str:
    """Why the acting ended, in the policy's words (expired, ended, not yet valid), when the policy
    can tell from the last power of attorney between the two; otherwise a plain sentence."""
    last = (
        PowerOfAttorney.objects.filter(
            Q(attorney=user) | Q(organisation__memberships__user=user),
            grantor_id=grantor_id,
            activated_at__isnull=False,
        )
        .select_related("grantor")
        .prefetch_related("rights")
        .order_by("-activated_at")
        .first()
    )
    rights = list(last.rights.all()) if last is not None else []
    if not rights:
        return _("You are no longer acting for another person: the power of attorney is not in force.")
    decision = authorize(actor=user, principal=last.grantor, right=rights[0])
    return _("You are no longer acting for %(name)s. %(reason)s") % {
        "name": last.grantor.name,
        "reason": decision.explanation,
    }


EMERGENCY_QUESTION_SESSION_KEY = "emergency_question"


def ask_about_emergency_on_login(sender, request, user, **kwargs) -> None:
    """At login, a citizen with an emergency power of attorney they have not been asked about is
    taken to the question once (see ``EmergencyQuestionMiddleware``)."""
    from .selectors import emergency_to_answer

    emergency = emergency_to_answer(user) if request is not None else None
    if emergency is not None:
        request.session[EMERGENCY_QUESTION_SESSION_KEY] = str(emergency.pk)


class EmergencyQuestionMiddleware:
    """The first page a citizen opens after logging in is the question about an emergency power of
    attorney someone was given for them, if there is one; after that the portal leaves them be."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if (
            session is not None
            and request.method == "GET"
            and EMERGENCY_QUESTION_SESSION_KEY in session
            and request.user.is_authenticated
            and not request.path.startswith(("/static/", "/admin/", "/api/"))
        ):
            from django.shortcuts import redirect

            return redirect("attorney:emergency", session.pop(EMERGENCY_QUESTION_SESSION_KEY))
        return self.get_response(request)
