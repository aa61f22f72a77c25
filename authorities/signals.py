from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.tlog import checkpoint_published

from .models import Right
from .services import emit_log_checkpoint, ensure_right_permission


@receiver(post_save, sender=Right)
def give_right_its_permission(sender, instance: Right, raw: bool = False, **kwargs) -> None:
    """Every right, however it was created (admin, fixture, service), gets its own permission."""
    if not raw:
        ensure_right_permission(right=instance)


@receiver(checkpoint_published)
def send_checkpoint_to_authorities(sender, *, checkpoint, **kwargs) -> None:
    emit_log_checkpoint(checkpoint=checkpoint)
