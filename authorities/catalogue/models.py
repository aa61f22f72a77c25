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


class Matters(models.TextChoices):
    """The part of a person's affairs a right belongs to. A guardianship's scope is given in these, so
    the catalogue decides which rights a guardian holds."""

    PERSONAL = "personal", _("Personal matters")
    FINANCIAL = "financial", _("Financial matters")


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
    # The legal representatives' rights are part of each authority's catalogue: which rights a parent
    # with custody holds for a child, and whether a guardianship over personal or financial matters
    # covers the right.
    matters = models.CharField(_("matters"), max_length=16, choices=Matters.choices, blank=True)
    for_custodians = models.BooleanField(_("held by parents with custody"), default=False)

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

    A row is written per (power of attorney or legal representation, right) – per member with access,
    for an organisation's power of attorney – while the power of attorney is active and
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
    # Or the legal representation (parental custody, guardianship) the row is written for.
    representation = models.ForeignKey(
        "representation.Representation",
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
        # same right, so uniqueness is per mandate instead (and per member, for an organisation's).
        constraints = [
            models.UniqueConstraint(
                fields=["power_of_attorney", "user", "permission", "content_object"],
                name="citizen_file_perm_unique_per_mandate",
            ),
            models.UniqueConstraint(
                fields=["representation", "permission", "content_object"],
                name="citizen_file_perm_unique_per_representation",
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


def private_storage():
    """Uploaded documents are never served from a public URL, only through permission-checked views."""
    return storages["private"]


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
