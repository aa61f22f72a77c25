from django.contrib import messages
from django.utils.translation import gettext as _

from .policy import mandates_in_force

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
                    messages.warning(
                        request,
                        _(
                            "You are no longer acting for another person: the power of attorney is not in force."
                        ),
                    )
        return self.get_response(request)
