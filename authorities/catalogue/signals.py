from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal import processcache

from .models import Authority, Right, Service
from .services import ensure_right_permission


@receiver(post_save, sender=Right)
def give_right_its_permission(sender, instance: Right, raw: bool = False, **kwargs) -> None:
    """Every right, however it was created (admin, fixture, service), gets its own permission."""
    if not raw:
        ensure_right_permission(right=instance)


@receiver([post_save, post_delete], sender=Authority)
@receiver([post_save, post_delete], sender=Service)
@receiver([post_save, post_delete], sender=Right)
def forget_process_copies_of_the_catalogue(sender, raw: bool = False, **kwargs) -> None:
    """The API holds the catalogue in each process (``portal.processcache``); a change reaches every
    process at its next request."""
    processcache.bump()
