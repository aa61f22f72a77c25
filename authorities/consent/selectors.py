from django.db.models import QuerySet

from attorney.policy import permitted_files, rights_in_force
from authorities.catalogue.models import Authority
from portal.models import User

CONSENT = "consent"


def consent_authorities(*, actor: User, principal: User) -> QuerySet[Authority]:
    """Authorities whose consents the actor may see and answer for the principal.

    All of them for oneself; for an attorney only those where they hold that authority's consent
    right (``<authority>.consent``), by mandate *and* by guardian, as letters go by read_mail.
    """
    if actor.pk == principal.pk:
        return Authority.objects.all()
    rights = [
        r
        for r in rights_in_force(actor=actor, principal=principal)
        if r.code == f"{r.service.authority.slug}.{CONSENT}"
    ]
    files = permitted_files(actor=actor, principal=principal, rights=rights)
    return Authority.objects.filter(citizen_files__in=files)


def consent_requests_for(*, actor: User, principal: User) -> QuerySet:
    """Requests addressed to the principal, at the authorities where the actor may answer them."""
    from .models import ConsentRequest

    if not principal.is_identity_verified:
        # Requests are held by CPR number: an account that only claims the number sees none of them.
        return ConsentRequest.objects.none()
    return ConsentRequest.objects.filter(
        citizen_national_id=principal.national_id,
        authority__in=consent_authorities(actor=actor, principal=principal),
    ).select_related("authority", "category__authority", "answered_by")


def consents_of(*, actor: User, principal: User) -> QuerySet:
    """The principal's consents, at the authorities where the actor may see and withdraw them."""
    from .models import Consent

    return Consent.objects.filter(
        citizen=principal, authority__in=consent_authorities(actor=actor, principal=principal)
    ).select_related("authority", "category__authority", "given_by", "ended_by", "request")


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
