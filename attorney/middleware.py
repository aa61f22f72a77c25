from django.contrib import messages
from django.utils.translation import gettext as _

from .models import PowerOfAttorney
from .policy import authorize, mandates_in_force

ACTING_FOR_SESSION_KEY = "acting_for"


class ActingForMiddleware:
    """Re-checks on every request that the person the user is acting for still allows it.

    The choice lives in the session; the mandate is read again each time, so a revocation,
    resignation or expiry ends the acting at the very next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting_for = None
        request.acting_rights = []
        grantor_id = request.session.get(ACTING_FOR_SESSION_KEY) if hasattr(request, "session") else None
        if grantor_id is not None:
            user = request.user
            mandates = (
                list(mandates_in_force(attorney=user).filter(grantor_id=grantor_id))
                if user.is_authenticated
                else []
            )
            if mandates:
                request.acting_for = mandates[0].grantor
                rights = {right.pk: right for mandate in mandates for right in mandate.rights.all()}
                request.acting_rights = sorted(rights.values(), key=lambda r: r.code)
            else:
                del request.session[ACTING_FOR_SESSION_KEY]
                if user.is_authenticated:
                    messages.warning(request, _acting_ended(user, grantor_id))
        return self.get_response(request)


def _acting_ended(user, grantor_id) -> str:
    """Why the acting ended, in the policy's words (expired, ended, not yet valid), when the policy
    can tell from the last power of attorney between the two; otherwise a plain sentence."""
    last = (
        PowerOfAttorney.objects.filter(grantor_id=grantor_id, attorney=user, activated_at__isnull=False)
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
