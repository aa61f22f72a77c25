import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Authority, TranslatedNameMixin
from authorities.catalogue.selectors import register_caseworker_scope
from authorities.clients.models import ApiClient
from authorities.consent.models import Consent, DataCategory


class DataUseBasis(models.TextChoices):
    CONSENT = "consent", _("Your consent")
    LEGAL_BASIS = "legal_basis", _("Legal basis")


class DataUse(TranslatedNameMixin, models.Model):
    """An authority used a category of a citizen's data, as it reported through the API.

    Held by CPR number, as consent requests are: a use under a legal basis may concern someone who
    has not signed up yet, and it is shown to them once they have verified that number.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="data_uses"
    )
    client = models.ForeignKey(
        ApiClient, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="data_uses"
    )
    external_id = models.CharField(_("the authority's own id"), max_length=100)
    citizen_national_id = models.CharField(_("citizen's CPR number"), max_length=10)
    category = models.ForeignKey(
        DataCategory, verbose_name=_("data"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.TextField(_("purpose"), max_length=2000)
    used_at = models.DateTimeField(_("used"))
    case_reference = models.CharField(_("case reference"), max_length=100, blank=True)
    basis = models.CharField(_("basis"), max_length=16, choices=DataUseBasis.choices)
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("consent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_uses",
    )
    # The legal basis as the catalogue named it when the use was reported, so a later change to the
    # catalogue does not rewrite what the citizen was told.
    legal_basis_da = models.TextField(_("legal basis (Danish)"), blank=True)
    legal_basis_en = models.TextField(_("legal basis (English)"), blank=True)
    reported_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        verbose_name = _("data use")
        verbose_name_plural = _("data uses")
        ordering = ["-used_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "external_id"], name="data_use_once_per_authority_id"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(basis="consent", consent__isnull=False, legal_basis_da="")
                    | models.Q(basis="legal_basis", consent__isnull=True) & ~models.Q(legal_basis_da="")
                ),
                name="data_use_has_its_basis",
            ),
        ]
        indexes = [
            models.Index(
                "citizen_national_id",
                models.F("used_at").desc(),
                models.F("id").desc(),
                name="data_use_citizen",
            ),
            models.Index(models.F("consent"), models.F("used_at").desc(), name="data_use_consent"),
        ]

    def __str__(self) -> str:
        return f"{self.authority.slug}: {self.category.code} {self.used_at:%Y-%m-%d %H:%M}"

    @property
    def legal_basis(self) -> str:
        return self._translated("legal_basis")


class RefusalReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent")
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid", _("Before the consent began")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("After the consent was withdrawn")
    CONSENT_EXPIRED = "consent_expired", _("After the consent expired")


class RefusedDataUse(models.Model):
    """A reported use the portal refused because nothing allowed it at that moment; kept to be counted.

    Only the category, moment and reason are kept, never the CPR number: the report may be about
    someone who never consented to anything here.
    """

    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        ApiClient, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="refused_data_uses"
    )
    external_id = models.CharField(_("the authority's own id"), max_length=100)
    category = models.ForeignKey(
        DataCategory, verbose_name=_("data"), on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(_("used"))
    reason = models.CharField(_("reason"), max_length=32, choices=RefusalReason.choices)
    consent = models.ForeignKey(
        Consent, verbose_name=_("consent"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refused_at = models.DateTimeField(_("refused"), auto_now_add=True)

    class Meta:
        verbose_name = _("refused data-use report")
        verbose_name_plural = _("refused data-use reports")
        ordering = ["-refused_at", "-id"]
        constraints = [
            # A report sent again is counted once.
            models.UniqueConstraint(fields=["authority", "external_id"], name="refused_data_use_once_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.authority.slug}: {self.external_id} ({self.reason})"


register_caseworker_scope(DataUse, lambda records, authority: records.filter(authority=authority))
register_caseworker_scope(RefusedDataUse, lambda records, authority: records.filter(authority=authority))
