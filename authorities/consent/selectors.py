from django.db.models import QuerySet

from portal.models import User


def consent_requests_for(principal: User) -> QuerySet:
    from .models import ConsentRequest

    if not principal.is_identity_verified:
        # Requests are held by CPR number: an account that only claims the number sees none of them.
        return ConsentRequest.objects.none()
    return ConsentRequest.objects.filter(citizen_national_id=principal.national_id).select_related(
        "authority", "category__authority", "answered_by"
    )


def consents_of(principal: User) -> QuerySet:
    from .models import Consent

    return Consent.objects.filter(citizen=principal).select_related(
        "authority", "category__authority", "given_by", "ended_by", "request"
    )


def consent_in_force(*, authority_id: int, citizen_national_id: str, category_code: str):
    """The consent the authority may rely on right now, or None. Reads the period, so it says no
    the second a consent ends, whether or not the expiry job has run."""
    from django.utils import timezone

    from .models import Consent, ConsentStatus

    now = timezone.now()
    return (
        Consent.objects.filter(
            authority_id=authority_id,
            citizen__national_id=citizen_national_id,
            citizen__identity_verified_at__isnull=False,
            category__code=category_code,
            status=ConsentStatus.GRANTED,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .order_by("-valid_until")
        .first()
    )
