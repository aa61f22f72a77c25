import uuid

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.storage import storages
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.managers import UserObjectPermissionManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class TranslatedNameMixin:
    """Pick the Danish or English text of a field pair for the active language."""

    def _translated(self, field: str) -> str:
        english = (get_language() or "da").startswith("en")
        value = getattr(self, f"{field}_en" if english else f"{field}_da")
        return value or getattr(self, f"{field}_da")


class Authority(TranslatedNameMixin, models.Model):
    """A public authority whose self-service solutions citizens can be represented at."""

    name_da = models.CharField(_("name (Danish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    cvr = models.CharField(
        _("CVR number"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{8}\Z", _("A CVR number is 8 digits."))],
    )
    slug = models.SlugField(_("short name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        ordering = ["name_da"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self._translated("name")


class Service(TranslatedNameMixin, models.Model):
    """A self-service solution of an authority (e.g. the tax return, digital post)."""

    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="services"
    )
    slug = models.SlugField(_("short name"), max_length=50)
    name_da = models.CharField(_("name (Danish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_da = models.TextField(_("description (Danish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["authority__name_da", "name_da"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "slug"], name="service_unique_slug_per_authority")
        ]

    def __str__(self) -> str:
        return f"{self.authority.name}: {self.name}"

    @property
    def name(self) -> str:
        return self._translated("name")

    @property
    def description(self) -> str:
        return self._translated("description")


class Right(TranslatedNameMixin, models.Model):
    """One entry of the rights catalogue, e.g. ``skat.read_mail``.

    Each right has its own Django permission on CitizenFile, so an attorney can be given exactly
    that right on exactly one citizen's file at the right's authority.
    """

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="rights"
    )
    code = models.CharField(
        _("code"),
        max_length=80,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9-]+\.[a-z0-9_]+$",
                _("A right code looks like 'authority.right', e.g. skat.read_mail."),
            )
        ],
    )
    name_da = models.CharField(_("name (Danish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_da = models.TextField(_("description (Danish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    permission = models.OneToOneField(
        Permission, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("right")
        verbose_name_plural = _("rights")
        ordering = ["service__authority__name_da", "service__name_da", "name_da"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def name(self) -> str:
        return self._translated("name")

    @property
    def description(self) -> str:
        return self._translated("description")

    @property
    def authority(self) -> Authority:
        return self.service.authority

    @property
    def authority_id(self) -> int:
        return self.service.authority_id

    @property
    def permission_codename(self) -> str:
        return permission_codename_for(self.code)


def permission_codename_for(code: str) -> str:
    # Permission strings are split on the first dot into app label and codename, so the code's dot
    # must not survive into the codename.
    return "right__" + code.replace(".", "__")


class CitizenFile(models.Model):
    """A citizen's file at one authority; object permissions are granted on it.

    Letters, applications and other records hang off the file, so a new letter is covered by an
    existing grant without writing new permission rows.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("citizen"),
        on_delete=models.PROTECT,
        related_name="citizen_files",
    )
    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="citizen_files"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("citizen file")
        verbose_name_plural = _("citizen files")
        constraints = [
            models.UniqueConstraint(fields=["citizen", "authority"], name="citizen_file_one_per_authority")
        ]

    def __str__(self) -> str:
        return f"{self.citizen} @ {self.authority}"


class InPeriodPermissionManager(UserObjectPermissionManager):
    """Hides permission rows outside their period, so guardian's queries never see a lapsed grant."""

    def get_queryset(self):
        now = timezone.now()
        return (
            super()
            .get_queryset()
            .filter(valid_from__lte=now)
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=now))
        )


class CitizenFileUserObjectPermission(UserObjectPermissionBase):
    """guardian's direct foreign-key permission row, carrying the period of the grant behind it.

    A row is written per (power of attorney, right) while the power of attorney is active and
    deleted when it ends. Because the row carries valid_from/valid_until, a grant that runs out
    stops counting at that second even if no background job has removed the row yet.
    """

    content_object = models.ForeignKey(CitizenFile, on_delete=models.CASCADE)
    power_of_attorney = models.ForeignKey(
        "attorney.PowerOfAttorney",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="permission_rows",
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)

    objects = InPeriodPermissionManager()
    all_rows = models.Manager()

    class Meta:
        # guardian's base is unique per (user, permission, object); two mandates may cover the
        # same right, so uniqueness is per mandate instead.
        constraints = [
            models.UniqueConstraint(
                fields=["power_of_attorney", "permission", "content_object"],
                name="citizen_file_perm_unique_per_mandate",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
                name="citizen_file_perm_period_order",
            ),
        ]
        indexes = [models.Index(fields=["user", "content_object"], name="citizen_file_perm_user_obj")]


class CitizenFileGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(CitizenFile, on_delete=models.CASCADE)


# --- Records on a citizen's file -------------------------------------------------------------


def private_storage():
    """Uploaded documents are never served from a public URL, only through permission-checked views."""
    return storages["private"]


def letter_attachment_path(instance: "Letter", filename: str) -> str:
    return f"letters/{instance.pk}.pdf"


def application_attachment_path(instance: "Application", filename: str) -> str:
    return f"applications/{instance.pk}.pdf"


class Letter(models.Model):
    """A letter (digital post) from an authority to a citizen, kept on the citizen's file there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen_file = models.ForeignKey(
        CitizenFile, verbose_name=_("citizen file"), on_delete=models.PROTECT, related_name="letters"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    attachment = models.FileField(
        _("attachment (PDF)"), storage=private_storage, upload_to=letter_attachment_path, blank=True
    )
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["citizen_file", "-sent_at"], name="letter_file_sent")]

    def __str__(self) -> str:
        return self.subject


class LetterRead(models.Model):
    """Who has opened a letter, and for whom: a letter read by an attorney is read by them for the citizen."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="reads")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("letter read")
        verbose_name_plural = _("letters read")
        constraints = [
            models.UniqueConstraint(fields=["letter", "reader"], name="letter_read_once_per_reader")
        ]

    def __str__(self) -> str:
        return f"{self.letter} read by {self.reader}"


class ApplicationValueKind(models.TextChoices):
    AMOUNT = "amount", _("Amount in kroner")
    DATE = "date", _("Date")


class ApplicationForm(TranslatedNameMixin, models.Model):
    """How a service takes applications: the right needed to apply and the typed field it asks for."""

    service = models.OneToOneField(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="application_form"
    )
    right = models.ForeignKey(
        Right, verbose_name=_("right needed to apply"), on_delete=models.PROTECT, related_name="+"
    )
    value_kind = models.CharField(_("typed field"), max_length=10, choices=ApplicationValueKind.choices)
    value_label_da = models.CharField(_("field label (Danish)"), max_length=200)
    value_label_en = models.CharField(_("field label (English)"), max_length=200)
    amount_min = models.DecimalField(_("lowest amount"), max_digits=12, decimal_places=2, default=0)
    amount_max = models.DecimalField(_("highest amount"), max_digits=12, decimal_places=2, default=1_000_000)

    class Meta:
        verbose_name = _("application form")
        verbose_name_plural = _("application forms")

    def __str__(self) -> str:
        return str(self.service)

    @property
    def value_label(self) -> str:
        return self._translated("value_label")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    """An application to a service, by the citizen or by an attorney for them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="+"
    )
    citizen_file = models.ForeignKey(
        CitizenFile, verbose_name=_("citizen file"), on_delete=models.PROTECT, related_name="applications"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("on behalf of"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"), max_length=5000)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    date_value = models.DateField(_("date"), null=True, blank=True)
    attachment = models.FileField(
        _("attachment (PDF)"), storage=private_storage, upload_to=application_attachment_path, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    decision_text = models.TextField(_("decision"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="application_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} – {self.get_status_display()}"


class AuthorityMembership(models.Model):
    """A caseworker works for exactly one authority and sees only its records."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caseworker"),
        on_delete=models.CASCADE,
        related_name="membership",
    )
    authority = models.ForeignKey(
        Authority, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("caseworker membership")
        verbose_name_plural = _("caseworker memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.authority}"


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


# --- Consent for data use --------------------------------------------------------------------


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
        return self.status == ConsentStatus.GRANTED and self.valid_from <= timezone.now() < self.valid_until


# --- Events for authorities ------------------------------------------------------------------


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
