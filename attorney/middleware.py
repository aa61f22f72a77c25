from django.contrib import messages
from django.utils.translation import gettext as _

from portal.audit import current_acting_basis

from .policy import principals_in_force

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
        grantor_id = request.session.get(ACTING_FOR_SESSION_KEY) if hasattr(request, "session") else None
        if grantor_id is not None:
            user = request.user
            found = principals_in_force(actor=user, principal_id=grantor_id) if user.is_authenticated else []
            if found:
                request.acting_for = found[0].person
                request.acting_rights = found[0].rights
                request.acting_bases = found[0].bases
            else:
                del request.session[ACTING_FOR_SESSION_KEY]
                if user.is_authenticated:
                    messages.warning(
                        request,
                        _(
                            "You are no longer acting for another person: the power of attorney is not in force."
                        ),
                    )
        if request.acting_for is None:
            return self.get_response(request)
        # What is done for the person now carries the bases it rests on (see portal.audit).
        token = current_acting_basis.set((request.acting_for.pk, tuple(request.acting_bases)))
        try:
            return self.get_response(request)
        finally:
            current_acting_basis.reset(token)
