import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Right, private_storage
from authorities.catalogue.selectors import register_caseworker_scope
from portal.cpr import format_cpr


class Status(models.TextChoices):
    PENDING = "pending", _("Awaiting acceptance")
    ACTIVE = "active", _("Active")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    RESIGNED = "resigned", _("Resigned")


ENDED_STATUSES = (Status.REVOKED, Status.EXPIRED, Status.RESIGNED, Status.DECLINED)


class Basis(models.TextChoices):
    DIGITAL = "digital", _("Given digitally")
    PAPER = "paper", _("Signed paper form")
    EMERGENCY = "emergency", _("Emergency, approved by two caseworkers")


class PowerOfAttorneyQuerySet(models.QuerySet):
    def in_force(self, at=None) -> "PowerOfAttorneyQuerySet":
        """The one definition of "in force": accepted by then, inside its period, not ended by then,
        between a verified grantor and a verified, active attorney or an organisation.

        Read from the mandate's own times, not its status, so it is right for any moment and the
        second a mandate runs out, whether or not the expiry job has run. ``is_in_force`` says the
        same for one mandate already in memory.
        """
        at = at or timezone.now()
        return self.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=at),
            # A person attorney must be verified and active; an organisation acts through its
            # members, each checked on their own (``attorney.policy``).
            Q(attorney__identity_verified_at__isnull=False, attorney__is_active=True)
            | Q(attorney__isnull=True, organisation__isnull=False),
            activated_at__lte=at,
            valid_from__lte=at,
            valid_until__gt=at,
            grantor__identity_verified_at__isnull=False,
        )


class JointMode(models.TextChoices):
    SEVERALLY = "severally", _("Each alone (jointly and severally)")
    JOINTLY = "jointly", _("Together on applications (jointly)")


class JointAppointment(models.Model):
    """Several attorneys appointed by one grantor in one go, and how they act: each alone, or
    together, where an application one of them makes waits until another of them approves it.

    Each attorney still has their own mandate (one ``PowerOfAttorney`` each) with the same rights
    and period; this only ties them together.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grantor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grantor"),
        on_delete=models.PROTECT,
        related_name="joint_appointments",
    )
    mode = models.CharField(_("how the attorneys act"), max_length=16, choices=JointMode.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("appointment of several attorneys")
        verbose_name_plural = _("appointments of several attorneys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.grantor} ({self.get_mode_display()})"

    @property
    def is_joint(self) -> bool:
        return self.mode == JointMode.JOINTLY


def paper_document_path(instance: "PowerOfAttorney", filename: str) -> str:
    return f"powers-of-attorney/{instance.pk}.pdf"


class PowerOfAttorney(models.Model):
    """A citizen (grantor) lets another person (attorney) act for them with chosen rights and period.

    While the attorney has no account yet, the invitation is held by their CPR number and name and
    is attached to their account when they sign up. The attorney may instead be an organisation
    (by CVR number): its administrators accept, and its members with access act
    (``OrganisationAccess``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grantor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grantor"),
        on_delete=models.PROTECT,
        related_name="powers_given",
    )
    attorney = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attorney"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="powers_received",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organisation as attorney"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    invitee_national_id = models.CharField(_("attorney's CPR number"), max_length=10, blank=True)
    invitee_name = models.CharField(_("attorney's name"), max_length=200, blank=True)
    rights = models.ManyToManyField(Right, verbose_name=_("rights"), related_name="powers_of_attorney")
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices, default=Basis.DIGITAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    activated_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_reason = models.TextField(_("reason"), blank=True)
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    paper_document = models.FileField(
        _("signed paper form (PDF)"),
        storage=private_storage,
        upload_to=paper_document_path,
        blank=True,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by caseworker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    joint_appointment = models.ForeignKey(
        JointAppointment,
        verbose_name=_("appointed together with other attorneys"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mandates",
    )

    objects = PowerOfAttorneyQuerySet.as_manager()

    class Meta:
        verbose_name = _("power of attorney")
        verbose_name_plural = _("powers of attorney")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="poa_period_order"),
            models.CheckConstraint(condition=~Q(attorney=F("grantor")), name="poa_not_self"),
            models.CheckConstraint(
                condition=Q(attorney__isnull=False)
                | ~Q(invitee_national_id="")
                | Q(organisation__isnull=False),
                name="poa_has_attorney_or_invitee",
            ),
            # An organisation is the attorney on its own: no person, no invitation by CPR number.
            models.CheckConstraint(
                condition=Q(organisation__isnull=True) | Q(attorney__isnull=True, invitee_national_id=""),
                name="poa_organisation_alone",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active"]) | Q(ended_at__isnull=False),
                name="poa_ended_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="active")
                | (
                    Q(activated_at__isnull=False)
                    & (Q(attorney__isnull=False) | Q(organisation__isnull=False))
                ),
                name="poa_active_has_attorney",
            ),
            models.CheckConstraint(
                condition=Q(basis="digital") | Q(registered_by__isnull=False),
                name="poa_paper_has_caseworker",
            ),
        ]
        indexes = [
            models.Index(fields=["grantor", "status"], name="poa_grantor_status"),
            models.Index(fields=["attorney", "status"], name="poa_attorney_status"),
            models.Index(fields=["status", "valid_until"], name="poa_status_valid_until"),
            models.Index(fields=["invitee_national_id"], name="poa_invitee"),
            models.Index(fields=["organisation", "status"], name="poa_organisation_status"),
        ]

    def __str__(self) -> str:
        return f"{self.grantor} → {self.attorney_name}"

    @property
    def attorney_name(self) -> str:
        if self.organisation_id:
            return self.organisation.name
        return self.attorney.name if self.attorney_id else self.invitee_name

    @property
    def attorney_national_id_display(self) -> str:
        """The attorney's CPR number as written, or the organisation's CVR number."""
        if self.organisation_id:
            return f"CVR {self.organisation.cvr_display}"
        return format_cpr(self.attorney.national_id if self.attorney_id else self.invitee_national_id)

    @property
    def is_for_organisation(self) -> bool:
        return self.organisation_id is not None

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES

    def is_in_force(self, at=None) -> bool:
        """``PowerOfAttorneyQuerySet.in_force`` for this mandate (its parties' identity is checked by
        the policy, which has them loaded)."""
        at = at or timezone.now()
        return (
            self.activated_at is not None
            and self.activated_at <= at
            and self.valid_from <= at < self.valid_until
            and (self.ended_at is None or self.ended_at > at)
        )


class OrganisationAccessQuerySet(models.QuerySet):
    def current(self, at=None) -> "OrganisationAccessQuerySet":
        """Access given by ``at`` (now by default) and not removed by then."""
        at = at or timezone.now()
        return self.filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at), granted_at__lte=at)


class OrganisationAccess(models.Model):
    """An organisation's administrator lets one member use one of the organisation's powers of
    attorney, or all of them (``power_of_attorney`` empty), from now until it is removed.

    The member then acts for that citizen like a person attorney, within the same rights and period.
    Rows are never deleted: removing access sets ``removed_at``, so history can say who could act when.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    membership = models.ForeignKey(
        "organisations.Membership",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="access",
    )
    power_of_attorney = models.ForeignKey(
        PowerOfAttorney,
        verbose_name=_("power of attorney (empty: all of the organisation's)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisation_access",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("given by"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("given"), default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    objects = OrganisationAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("access to an organisation's powers of attorney")
        verbose_name_plural = _("access to organisations' powers of attorney")
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gte=F("granted_at")),
                name="organisation_access_period_order",
            ),
            # At most one open access per member and mandate, and one open "all mandates" per member.
            models.UniqueConstraint(
                fields=["membership", "power_of_attorney"],
                condition=Q(removed_at__isnull=True, power_of_attorney__isnull=False),
                name="organisation_access_one_open_per_mandate",
            ),
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(removed_at__isnull=True, power_of_attorney__isnull=True),
                name="organisation_access_one_open_for_all",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} → {self.power_of_attorney or _('all powers of attorney')}"

    @property
    def is_for_all(self) -> bool:
        return self.power_of_attorney_id is None


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting answer")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AttorneyRequest(models.Model):
    """A relative asks a citizen to give them a power of attorney; the citizen answers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="attorney_requests_made",
    )
    grantor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked"),
        on_delete=models.PROTECT,
        related_name="attorney_requests_received",
    )
    rights = models.ManyToManyField(Right, verbose_name=_("rights asked for"), related_name="+")
    message = models.TextField(_("message"), blank=True, max_length=2000)
    valid_until = models.DateTimeField(_("asked until"))
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    power_of_attorney = models.ForeignKey(
        PowerOfAttorney,
        verbose_name=_("resulting power of attorney"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("request for a power of attorney")
        verbose_name_plural = _("requests for a power of attorney")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(requester=F("grantor")), name="attorney_request_not_self"),
        ]
        indexes = [models.Index(fields=["grantor", "status"], name="attorney_request_grantor")]

    def __str__(self) -> str:
        return f"{self.requester} → {self.grantor}"


class RequesterBlock(models.Model):
    """A citizen no longer wants requests from a particular person."""

    citizen = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("blocked requester")
        verbose_name_plural = _("blocked requesters")
        constraints = [models.UniqueConstraint(fields=["citizen", "blocked"], name="requester_block_unique")]

    def __str__(self) -> str:
        return f"{self.citizen} blocks {self.blocked}"


class AccessCode(models.Model):
    """A code the attorney or grantor hands to an organisation so it can see the power of attorney.

    Only a hash of the code is stored; the code is shown once when it is made.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    power_of_attorney = models.ForeignKey(
        PowerOfAttorney,
        verbose_name=_("power of attorney"),
        on_delete=models.CASCADE,
        related_name="access_codes",
    )
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_end = models.CharField(_("code ends with"), max_length=4, editable=False)
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"…{self.code_end} ({self.label})" if self.label else f"…{self.code_end}"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return (
            self.revoked_at is None
            and self.expires_at > now
            and not (self.locked_until and self.locked_until > now)
        )


class AccessCodeView(models.Model):
    """One look at a power of attorney through an access code."""

    access_code = models.ForeignKey(AccessCode, on_delete=models.CASCADE, related_name="views")
    viewed_at = models.DateTimeField(_("time"), default=timezone.now)
    viewer_label = models.CharField(_("organisation, as typed by the viewer"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("access code view")
        verbose_name_plural = _("access code views")
        ordering = ["-viewed_at"]

    def __str__(self) -> str:
        return f"{self.viewer_label} {self.viewed_at:%Y-%m-%d %H:%M}"


class EmergencyStatus(models.TextChoices):
    AWAITING_FIRST = "awaiting_first", _("Awaiting the first caseworker")
    AWAITING_SECOND = "awaiting_second", _("Awaiting the second caseworker")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


#: The longest an emergency power of attorney lasts, and how long after one a new one for the same
#: two people needs a stated reason.
EMERGENCY_MAX_DAYS = 30
EMERGENCY_REPEAT_DAYS = 90
#: The one right an emergency power of attorney gives, at each authority chosen: reading letters.
EMERGENCY_RIGHT = "read_mail"


class EmergencyRequest(models.Model):
    """A relative asks to act for a citizen who suddenly cannot (in hospital, say); two different
    caseworkers at the citizen service desk must approve before a short emergency power of attorney
    to read letters comes into force."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    relative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relative"),
        on_delete=models.PROTECT,
        related_name="emergency_requests_made",
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("citizen"),
        on_delete=models.PROTECT,
        related_name="emergency_requests_received",
    )
    reason = models.TextField(_("reason"), max_length=2000)
    repeat_reason = models.TextField(_("reason for another emergency power of attorney"), blank=True)
    rights = models.ManyToManyField(Right, verbose_name=_("rights asked for"), related_name="+")
    days = models.PositiveSmallIntegerField(_("days"))
    status = models.CharField(
        _("status"), max_length=16, choices=EmergencyStatus.choices, default=EmergencyStatus.AWAITING_FIRST
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first approval by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_approved_at = models.DateTimeField(_("first approval"), null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second approval by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    second_approved_at = models.DateTimeField(_("second approval"), null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("refused by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    power_of_attorney = models.OneToOneField(
        PowerOfAttorney,
        verbose_name=_("emergency power of attorney"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergency_request",
    )
    citizen_answered_at = models.DateTimeField(_("citizen answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("emergency power of attorney request")
        verbose_name_plural = _("emergency power of attorney requests")
        ordering = ["-created_at"]
        permissions = [("approve_emergencyrequest", _("Can approve emergency powers of attorney"))]
        constraints = [
            models.CheckConstraint(condition=~Q(relative=F("citizen")), name="emergency_not_self"),
            models.CheckConstraint(
                condition=Q(days__gte=1, days__lte=EMERGENCY_MAX_DAYS), name="emergency_at_most_30_days"
            ),
            # Four eyes: the second approval is never by the person who gave the first.
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True) | ~Q(second_approved_by=F("first_approved_by")),
                name="emergency_two_different_caseworkers",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(
                    first_approved_by__isnull=False,
                    second_approved_by__isnull=False,
                    power_of_attorney__isnull=False,
                ),
                name="emergency_approved_by_two",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="emergency_open")]

    def __str__(self) -> str:
        return f"{self.relative} → {self.citizen}"


# A mandate concerns every authority whose rights it includes; Exists avoids the duplicate rows a join
# over the rights would give.
register_caseworker_scope(
    PowerOfAttorney,
    lambda records, authority: records.filter(
        Exists(Right.objects.filter(powers_of_attorney=OuterRef("pk"), service__authority=authority))
    ),
)
