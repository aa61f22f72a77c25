"""Organisations as attorneys: a company (by CVR number) that citizens give powers of attorney to –
an accountant, a lawyer, a bank, a housing association – and the people who work in its name.

Each person in an organisation has a membership: an *administrator* invites employees and decides
which of them may use which of the organisation's powers of attorney (``attorney.OrganisationAccess``);
an *employee* acts for the organisation's clients with the access given. A person logs in as
themselves; the membership only says for whom they may also act. A membership ends when the person
leaves or is removed, and it is never reopened: history keeps who was a member when.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.cpr import format_cpr

from .cvr import format_cvr, validate_cvr


class Organisation(models.Model):
    """A company registered in the portal by a caseworker, who has checked it in the CVR register."""

    cvr = models.CharField(_("CVR number"), max_length=8, unique=True, validators=[validate_cvr])
    name = models.CharField(_("name"), max_length=200)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by caseworker"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (CVR {self.cvr_display})"

    @property
    def cvr_display(self) -> str:
        return format_cvr(self.cvr)


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    EMPLOYEE = "employee", _("Employee")


class MembershipQuerySet(models.QuerySet):
    def current(self, at=None) -> "MembershipQuerySet":
        """Memberships of people who have joined and not left by ``at`` (now by default)."""
        at = at or timezone.now()
        return self.filter(Q(left_at__isnull=True) | Q(left_at__gt=at), joined_at__lte=at, user__isnull=False)


class Membership(models.Model):
    """A person's place in an organisation, from the invitation until they leave.

    The invitation goes to an email address; whoever follows its link and is logged in with a
    verified identity joins. An invitation may be bound to a CPR number (the first administrator,
    named by the caseworker who registered the organisation): then only that person can join.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    invited_name = models.CharField(_("name"), max_length=200)
    invited_email = models.EmailField(_("email address"))
    invited_national_id = models.CharField(_("CPR number"), max_length=10, blank=True)
    invitation_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(_("invited"), default=timezone.now)
    invitation_expires_at = models.DateTimeField(_("invitation valid until"))
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership of an organisation")
        verbose_name_plural = _("memberships of organisations")
        ordering = ["organisation", "invited_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(joined_at__isnull=True) | Q(user__isnull=False),
                name="membership_joined_has_person",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True)
                | Q(joined_at__isnull=True)
                | Q(left_at__gte=F("joined_at")),
                name="membership_left_after_joining",
            ),
            # A person holds at most one open place in an organisation.
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(left_at__isnull=True, user__isnull=False),
                name="membership_one_open_per_person",
            ),
        ]
        indexes = [models.Index(fields=["user", "left_at"], name="membership_user_open")]

    def __str__(self) -> str:
        return f"{self.invited_name}, {self.organisation.name} ({self.get_role_display()})"

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def has_joined(self) -> bool:
        return self.joined_at is not None

    @property
    def has_left(self) -> bool:
        return self.left_at is not None

    @property
    def invited_national_id_display(self) -> str:
        return format_cpr(self.invited_national_id)

    @property
    def invitation_is_open(self) -> bool:
        return self.joined_at is None and self.left_at is None and self.invitation_expires_at > timezone.now()
