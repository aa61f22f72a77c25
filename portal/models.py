import uuid

import pgtrigger
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import events
from .cpr import format_cpr, validate_cpr
from .events import Action


class Language(models.TextChoices):
    DANISH = "da", "Dansk"
    ENGLISH = "en", "English"


class IdentityVerification(models.TextChoices):
    """How an account's CPR number was shown to belong to the person using the account."""

    MITID = "mitid", _("MitID login")
    IN_PERSON = "in_person", _("Identity papers seen in person")


class IdentityDocument(models.TextChoices):
    """Papers a citizen service desk accepts as proof of identity, for the record."""

    PASSPORT = "passport", _("Passport")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    RESIDENCE_CARD = "residence_card", _("Residence card")


class UserQuerySet(models.QuerySet):
    def with_verified_cpr(self, national_id: str) -> "UserQuerySet":
        """The account whose CPR number is verified to be this one (at most one exists).

        Every lookup of a person by CPR number goes through here: a number typed at sign-up by
        an account that has not proved it is nobody's identity.
        """
        return self.filter(national_id=national_id, identity_verified_at__isnull=False)

    def with_verified_cprs(self, national_ids) -> "UserQuerySet":
        """The accounts verified to hold any of these CPR numbers, for a batch in one query."""
        return self.filter(national_id__in=list(national_ids), identity_verified_at__isnull=False)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: a citizen, a relative acting for one, or a caseworker."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("full name"), max_length=200)
    # Service-desk accounts may exist without a CPR; every citizen has one. Until it is verified
    # the number is only a claim, which several accounts may make; a verified number is unique.
    national_id = models.CharField(
        _("CPR number"), max_length=10, null=True, blank=True, validators=[validate_cpr]
    )
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    identity_verification = models.CharField(
        _("identity verified by"), max_length=16, choices=IdentityVerification.choices, blank=True
    )
    identity_verified_by = models.ForeignKey(
        "self",
        verbose_name=_("identity verified by caseworker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_document = models.CharField(
        _("identity document seen"), max_length=32, choices=IdentityDocument.choices, blank=True
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.DANISH
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(national_id__isnull=True) | models.Q(national_id__regex=r"^[0-9]{10}$"),
                name="user_national_id_ten_digits",
            ),
            models.UniqueConstraint(
                fields=["national_id"],
                condition=models.Q(identity_verified_at__isnull=False),
                name="user_verified_national_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(identity_verified_at__isnull=True, identity_verification="")
                | models.Q(
                    identity_verified_at__isnull=False,
                    national_id__isnull=False,
                    identity_verification__in=["mitid", "in_person"],
                ),
                name="user_verified_has_cpr_and_method",
            ),
            models.CheckConstraint(
                condition=~models.Q(identity_verification="in_person")
                | (models.Q(identity_verified_by__isnull=False) & ~models.Q(identity_document="")),
                name="user_in_person_has_caseworker_and_document",
            ),
        ]
        indexes = [models.Index(fields=["national_id"], name="user_national_id")]
        permissions = [("verify_identity", _("Can verify a person's identity from papers seen in person"))]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def is_identity_verified(self) -> bool:
        """The CPR number is proved to be this person's: only then may the account act or be acted for."""
        return self.identity_verified_at is not None and bool(self.national_id)

    @property
    def national_id_display(self) -> str:
        return format_cpr(self.national_id or "")


class AuditEvent(models.Model):
    """One thing that happened, append-only; the transparency log (``portal.tlog``) gives it its place.

    ``hash`` is the entry's RFC 6962 leaf hash, computed by the writer. ``previous_hash`` is kept
    only for events written while the trail was a hash chain; new events leave it empty.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # Every decision of the authority API writes one event, so each index here is paid on the hot
    # path: no index that another already covers. actor and principal are the first columns of the
    # (person, time) indexes below, which serve their foreign keys too.
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    principal = models.ForeignKey(
        User,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    authority = models.ForeignKey(
        "authorities.Authority",
        verbose_name=_("authority"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, choices=Action.choices)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            # Partial: an authority's API calls (most events) name neither, and skip both indexes.
            models.Index(
                fields=["principal", "-created_at"],
                name="audit_principal_time",
                condition=models.Q(principal__isnull=False),
            ),
            models.Index(
                fields=["actor", "-created_at"],
                name="audit_actor_time",
                condition=models.Q(actor__isnull=False),
            ),
            # Declared here rather than on the fields: a field's index or unique on a text column
            # also gets a second, LIKE-pattern index, which nothing here searches by.
            models.Index(fields=["action"], name="audit_action"),
        ]
        constraints = [models.UniqueConstraint(fields=["hash"], name="audit_unique_leaf_hash")]
        # Append-only in the database itself: no application bug or stray UPDATE can rewrite history.
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def label(self) -> str:
        return events.label(self.action)

    @property
    def sentence(self) -> str:
        """What the actor did, to follow their name: "read a letter"."""
        return events.sentence(self.action)

    @property
    def on_behalf(self) -> bool:
        """True when someone acted for another person."""
        return bool(self.principal_id and self.actor_id and self.principal_id != self.actor_id)


class AuditLogQueue(models.Model):
    """An audit event committed but not yet in the log's tree (Trillian's "unsequenced" table).

    Writers add a row in their own transaction; the sequencer takes the rows it can see, gives
    their events leaf indexes and deletes the rows in one transaction. A row whose writer has not
    committed yet is invisible to it and simply goes into a later batch.
    """

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("audit event waiting for the log")
        verbose_name_plural = _("audit events waiting for the log")

    def __str__(self) -> str:
        return f"waiting: {self.event_id}"


class AuditLogLeaf(models.Model):
    """Which audit event is entry ``index`` of the log."""

    index = models.BigIntegerField(_("entry"), primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="log_leaf")

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        ordering = ["index"]
        triggers = [
            pgtrigger.Protect(name="log_leaf_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.index}: {self.event_id}"


class AuditLogNode(models.Model):
    """A complete subtree of the log's Merkle tree: leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Level 0 holds the leaf hashes. Complete subtrees never change, so proofs for any tree size are
    answered from a few of these rows.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="log_node_position")]
        triggers = [
            pgtrigger.Protect(name="log_node_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"({self.level}, {self.index})"


class AuditCheckpoint(models.Model):
    """A signed statement of the log's size and root (C2SP tlog-checkpoint); every one is kept."""

    tree_size = models.BigIntegerField(_("entries"), unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField(_("signed checkpoint"))
    published = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("log checkpoint")
        verbose_name_plural = _("log checkpoints")
        ordering = ["-tree_size"]
        triggers = [
            pgtrigger.Protect(
                name="log_checkpoint_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tree_size} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class Notice(models.Model):
    """A message shown in the portal, so a person without email still learns what happened."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    # The subject as written in the recipient's language when it was sent; shown only where the
    # notice cannot be written again from its template and parameters (notices from before those).
    subject = models.CharField(_("subject"), max_length=300)
    # What happened, kept as the subject template and its plain parameters so the notice is written
    # in the language of whoever reads it, when they read it (see portal.notifications).
    template = models.CharField(_("template"), max_length=100, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread")]

    def __str__(self) -> str:
        return self.subject

    @property
    def title(self) -> str:
        """The subject in the active language."""
        from .notifications import notice_subject

        return notice_subject(self)


class OutboundEmail(models.Model):
    """An email to send once. The idempotency key makes a retried or duplicated task a no-op."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [models.Index(fields=["sent_at"], name="outbound_email_unsent")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
