from django.dispatch import receiver

from attorney.signals import power_of_attorney_changed

from .services import emit_mandate_event


@receiver(power_of_attorney_changed)
def tell_authorities(sender, *, mandate, type: str, **kwargs) -> None:
    """In the same transaction as the change, so the outbox holds the event exactly when it happened."""
    emit_mandate_event(mandate=mandate, type=type)
