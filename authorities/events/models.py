import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Authority
from authorities.catalogue.selectors import register_caseworker_scope
from authorities.clients.models import ApiClient


class AuthorityEvent(models.Model):
    """Something an authority should hear about, written in the same transaction as the change (outbox).

    The numeric id orders the feed; the event id lets receivers drop duplicates.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="events"
    )
    type = models.CharField(_("type"), max_length=64)
    payload = models.JSONField(_("content"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("authority event")
        verbose_name_plural = _("authority events")
        ordering = ["id"]
        indexes = [models.Index(fields=["authority", "id"], name="authority_event_feed")]

    def __str__(self) -> str:
        return f"{self.authority.slug}: {self.type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


class WebhookDelivery(models.Model):
    """Sending one event to one client's webhook, with its attempts."""

    event = models.ForeignKey(AuthorityEvent, on_delete=models.CASCADE, related_name="deliveries")
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(_("address"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "client"], name="webhook_delivery_once_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.client}"


register_caseworker_scope(AuthorityEvent, lambda records, authority: records.filter(authority=authority))
register_caseworker_scope(
    WebhookDelivery, lambda records, authority: records.filter(client__authority=authority)
)
