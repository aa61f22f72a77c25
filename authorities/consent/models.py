import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from attorney.acting import Task, register_right_tasks
from authorities.catalogue.models import Authority, TranslatedNameMixin
from authorities.catalogue.selectors import register_caseworker_scope


class DataCategory(TranslatedNameMixin, models.Model):
    """Personal data an authority holds that others may ask to use, e.g. income data from Skattestyrelsen."""

    authority = models.ForeignKey(
        Authority, verbose_name=_("held by"), on_delete=models.PROTECT, related_name="data_categories"
    )
    code = models.CharField(
        _("code"),
        max_length=80,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9-]+\.[a-z0-9_]+$", _("A code looks like 'authority.category'."))
        ],
    )
    name_da = models.CharField(_("name (Danish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_da = models.TextField(_("description (Danish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    max_days = models.PositiveIntegerField(_("longest consent in days"), default=365)
    # Some data an authority may use without asking, because a law says so. Naming that law here
    # marks the category as needing no consent; citizens are shown it as the basis of each use.
    legal_basis_da = models.TextField(
        _("legal basis (Danish)"),
        blank=True,
        help_text=_("Only for data used without consent: the law that allows it. Leave empty otherwise."),
    )
    legal_basis_en = models.TextField(_("legal basis (English)"), blank=True)

    class Meta:
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_days__gte=1), name="data_category_max_days_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def name(self) -> str:
        return self._translated("name")

    @property
    def description(self) -> str:
        return self._translated("description")

    @property
    def legal_basis(self) -> str:
        return self._translated("legal_basis")

    @property
    def needs_consent(self) -> bool:
        return not self.legal_basis_da.strip()


class ConsentRequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting your answer")
    GRANTED = "granted", _("Consent given")
    REFUSED = "refused", _("Refused")


class ConsentRequest(TranslatedNameMixin, models.Model):
    """An authority asks a citizen for consent to use a category of their data for a stated purpose.

    The citizen is held by CPR number, so a request to someone who has not signed up yet waits
    for them and the authority cannot tell whether the person uses the portal.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        Authority,
        verbose_name=_("recipient authority"),
        on_delete=models.PROTECT,
        related_name="consent_requests",
    )
    citizen_national_id = models.CharField(_("citizen's CPR number"), max_length=10, db_index=True)
    category = models.ForeignKey(
        DataCategory, verbose_name=_("data"), on_delete=models.PROTECT, related_name="+"
    )
    purpose_da = models.TextField(_("purpose (Danish)"), max_length=2000)
    purpose_en = models.TextField(_("purpose (English)"), max_length=2000)
    days = models.PositiveIntegerField(_("period in days"))
    status = models.CharField(
        _("status"), max_length=16, choices=ConsentRequestStatus.choices, default=ConsentRequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent request")
        verbose_name_plural = _("consent requests")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=1), name="consent_request_days_positive")
        ]

    def __str__(self) -> str:
        return f"{self.authority.slug} → {self.category.code}"

    @property
    def purpose(self) -> str:
        return self._translated("purpose")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("In force")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class Consent(models.Model):
    """A consent given in answer to a request; it allows the recipient authority to use the data until it ends."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.OneToOneField(ConsentRequest, on_delete=models.PROTECT, related_name="consent")
    authority = models.ForeignKey(
        Authority, verbose_name=_("recipient authority"), on_delete=models.PROTECT, related_name="+"
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="consents"
    )
    category = models.ForeignKey(
        DataCategory, verbose_name=_("data"), on_delete=models.PROTECT, related_name="+"
    )
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("given by"), on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.GRANTED
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")), name="consent_period_order"
            ),
            models.CheckConstraint(
                condition=models.Q(status="granted") | models.Q(ended_at__isnull=False),
                name="consent_ended_has_time",
            ),
        ]
        indexes = [models.Index(fields=["authority", "citizen", "category", "status"], name="consent_check")]

    def __str__(self) -> str:
        return f"{self.citizen} → {self.authority.slug}: {self.category.code}"

    @property
    def is_in_force(self) -> bool:
        return self.status == ConsentStatus.GRANTED and self.is_in_force_at(timezone.now())

    def is_in_force_at(self, moment) -> bool:
        """Whether the consent allowed use at that moment: from its start, up to (not including) its
        end or the moment it was withdrawn or expired, whichever came first."""
        if not self.valid_from <= moment < self.valid_until:
            return False
        return self.ended_at is None or moment < self.ended_at


for _model in (DataCategory, ConsentRequest, Consent):
    register_caseworker_scope(_model, lambda records, authority: records.filter(authority=authority))


def _consent_tasks(rights) -> dict:
    """An authority's consent right leads to the consents and requests for consent."""
    from django.urls import reverse
    from django.utils.translation import gettext

    return {
        right.pk: Task(
            url=reverse("authorities:consents"),
            label=gettext("Answer requests for consent from %(authority)s")
            % {"authority": right.service.authority.name},
        )
        for right in rights
        if right.code == f"{right.service.authority.slug}.consent"
    }


register_right_tasks(_consent_tasks)
