from django.db.models import QuerySet

from authorities.catalogue.models import Authority
from authorities.consent.selectors import consent_authorities, consents_of
from portal.models import User

from .models import DataUse


def data_use_authorities(*, actor: User, principal: User) -> QuerySet[Authority]:
    """Authorities whose uses of the principal's data the actor may see: all for oneself, for an
    attorney those where they hold the consent right, the same as for the consents themselves."""
    return consent_authorities(actor=actor, principal=principal)


def data_uses_for(*, actor: User, principal: User) -> QuerySet[DataUse]:
    """Uses of the principal's data, newest first, at the authorities the actor may see them for."""
    if not principal.is_identity_verified:
        # Uses are held by CPR number: an account that only claims the number sees none of them.
        return DataUse.objects.none()
    uses = DataUse.objects.filter(citizen_national_id=principal.national_id)
    if actor.pk != principal.pk:
        uses = uses.filter(authority__in=data_use_authorities(actor=actor, principal=principal))
    return uses.select_related("authority", "category__authority", "consent").order_by("-used_at", "-id")


def covers_no_data_use(*, actor: User, principal: User) -> bool:
    """An attorney whose mandate holds no consent right sees nothing here, and is told so."""
    return actor.pk != principal.pk and not data_use_authorities(actor=actor, principal=principal).exists()


def consent_with_uses(*, actor: User, principal: User, consent_id):
    """One of the principal's consents the actor may see, or None; its uses come from data_uses_of."""
    return consents_of(actor=actor, principal=principal).filter(pk=consent_id).first()


def data_uses_of(consent) -> QuerySet[DataUse]:
    return (
        DataUse.objects.filter(consent=consent)
        .select_related("authority", "category__authority", "consent")
        .order_by("-used_at", "-id")
    )
