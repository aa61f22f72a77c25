from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Right
from .services import ensure_right_permission


@receiver(post_save, sender=Right)
def give_right_its_permission(sender, instance: Right, raw: bool = False, **kwargs) -> None:
    """Every right, however it was created (admin, fixture, service), gets its own permission."""
    if not raw:
        ensure_right_permission(right=instance)
