from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiClient
from .services import forget_cached_client


@receiver([post_save, post_delete], sender=ApiClient)
def forget_process_copies_of_the_client(sender, instance: ApiClient, **kwargs) -> None:
    """A client changed in the admin (or anywhere with save()) is read again by every process."""
    forget_cached_client(instance)
