from django.dispatch import receiver

from attorney.signals import power_of_attorney_changed, powers_of_attorney_changed
from portal.tlog import checkpoint_published

from .services import emit_log_checkpoint, emit_mandate_event, emit_mandate_events


@receiver(power_of_attorney_changed)
def tell_authorities(sender, *, mandate, type: str, **kwargs) -> None:
    """In the same transaction as the change, so the outbox holds the event exactly when it happened."""
    emit_mandate_event(mandate=mandate, type=type)


@receiver(powers_of_attorney_changed)
def tell_authorities_of_many(sender, *, mandates, type: str, **kwargs) -> None:
    """A batch (the expiry job's) in a few statements, in the same transaction as the change."""
    emit_mandate_events(mandates=mandates, type=type)


@receiver(checkpoint_published)
def send_checkpoint_to_authorities(sender, *, checkpoint, **kwargs) -> None:
    """Every authority keeps the log's signed checkpoints, so history cannot be rewritten unseen."""
    emit_log_checkpoint(checkpoint=checkpoint)
