import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Authority
from authorities.catalogue.selectors import register_caseworker_scope


class ApiClient(models.Model):
    """An authority's system that calls the API. Only a hash of its token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(_("name"), max_length=200)
    token_prefix = models.CharField(_("token begins with"), max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    webhook_url = models.URLField(_("webhook address"), max_length=500, blank=True)
    # Needed in clear to sign each event; shown to the client once, when the webhook is registered.
    webhook_secret = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["authority__name_da", "name"]

    def __str__(self) -> str:
        return f"{self.authority.slug}: {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    # DRF's IsAuthenticated asks the request.user for this; an active client is authenticated.
    @property
    def is_authenticated(self) -> bool:
        return self.is_active


register_caseworker_scope(ApiClient, lambda records, authority: records.filter(authority=authority))
