"""Legal representatives: who acts for a person by law rather than by that person's own power of attorney.

Two kinds, each a relation between two CPR numbers with a period:

- **parental custody** (forældremyndighed) from the CPR register's daily extract: the custodian holds
  the rights the catalogue marks ``for_custodians``, until custody ends or the child turns 18;
- **guardianship** (værgemål) decided by the family court authority: the guardian holds the rights
  whose ``matters`` the guardianship's scope covers.

The relation is kept by CPR number, not by account: a child usually has no login, and the register
speaks of people, not accounts. The policy (``attorney.policy``) matches it to verified accounts.
"""

import datetime
import uuid
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Matters
from authorities.catalogue.selectors import register_caseworker_scope
from portal.cpr import birth_date, format_cpr, validate_cpr

COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
AGE_OF_MAJORITY = 18


def coming_of_age(national_id: str) -> datetime.datetime:
    """The moment a person turns 18: midnight at the start of their 18th birthday in Denmark.

    Someone born on 29 February comes of age on 1 March in a year without one.
    """
    born = birth_date(national_id)
    try:
        birthday = born.replace(year=born.year + AGE_OF_MAJORITY)
    except ValueError:
        birthday = datetime.date(born.year + AGE_OF_MAJORITY, 3, 1)
    return datetime.datetime.combine(birthday, datetime.time.min, tzinfo=COPENHAGEN)


def is_minor(national_id: str, at: datetime.datetime | None = None) -> bool:
    return (at or timezone.now()) < coming_of_age(national_id)


class Kind(models.TextChoices):
    PARENTAL_CUSTODY = "parental_custody", _("Parental custody")
    GUARDIANSHIP = "guardianship", _("Guardianship")


class Scope(models.TextChoices):
    PERSONAL = "personal", _("Personal matters")
    FINANCIAL = "financial", _("Financial matters")
    BOTH = "both", _("Personal and financial matters")


#: The catalogue's matters a guardianship of each scope covers.
SCOPE_MATTERS: dict[str, frozenset[str]] = {
    Scope.PERSONAL: frozenset({Matters.PERSONAL}),
    Scope.FINANCIAL: frozenset({Matters.FINANCIAL}),
    Scope.BOTH: frozenset({Matters.PERSONAL, Matters.FINANCIAL}),
}


def scopes_covering(matters: str) -> list[str]:
    """The guardianship scopes that cover a right of these matters (none for a right of neither)."""
    return [scope for scope, covered in SCOPE_MATTERS.items() if matters in covered]


class Source(models.TextChoices):
    REGISTER = "register", _("Register extract")
    CASEWORKER = "caseworker", _("Registered by a caseworker")


class RepresentationQuerySet(models.QuerySet):
    def in_force(self, at=None) -> "RepresentationQuerySet":
        """The one definition of "in force" for a legal representation: inside its period and not
        ended by then. Read from its own times, so it holds the second custody ends or the child
        turns 18, whether or not an import has run since."""
        at = at or timezone.now()
        return self.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            valid_from__lte=at,
        )

    def current(self) -> "RepresentationQuerySet":
        """Not ended by the register or a caseworker (its period may still lie ahead or have passed)."""
        return self.filter(ended_at__isnull=True)


class Representation(models.Model):
    """One person (the representative) acts for another (the represented) by law."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    represented_national_id = models.CharField(
        _("CPR number of the child or ward"), max_length=10, validators=[validate_cpr]
    )
    representative_national_id = models.CharField(
        _("CPR number of the custodian or guardian"), max_length=10, validators=[validate_cpr]
    )
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, blank=True)
    decision_reference = models.CharField(_("decision reference"), max_length=100, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    register_sequence = models.PositiveBigIntegerField(_("register sequence"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by caseworker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
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

    objects = RepresentationQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal representation")
        verbose_name_plural = _("legal representations")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="representation_period_order",
            ),
            models.CheckConstraint(
                condition=~Q(represented_national_id=F("representative_national_id")),
                name="representation_not_self",
            ),
            models.CheckConstraint(
                condition=Q(kind="parental_custody", scope="", valid_until__isnull=False)
                | (Q(kind="guardianship") & ~Q(scope="") & ~Q(decision_reference="")),
                name="representation_kind_fields",
            ),
            models.CheckConstraint(
                condition=Q(source="register") | Q(registered_by__isnull=False),
                name="representation_caseworker_named",
            ),
            # One open relation of a kind between the same two people: the register's key.
            models.UniqueConstraint(
                fields=["kind", "represented_national_id", "representative_national_id"],
                condition=Q(ended_at__isnull=True),
                name="representation_one_open_per_pair",
            ),
        ]
        indexes = [
            models.Index(
                fields=["representative_national_id", "represented_national_id"],
                name="representation_parties",
            ),
            models.Index(fields=["represented_national_id"], name="representation_represented"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {format_cpr(self.representative_national_id)} → {format_cpr(self.represented_national_id)}"

    @property
    def covered_matters(self) -> frozenset[str]:
        return SCOPE_MATTERS.get(self.scope, frozenset())

    def covers(self, right) -> bool:
        """Whether this kind of representation includes the right, by the catalogue."""
        if self.kind == Kind.PARENTAL_CUSTODY:
            return right.for_custodians
        return bool(right.matters) and right.matters in self.covered_matters

    def is_in_force(self, at=None) -> bool:
        """``RepresentationQuerySet.in_force`` for one relation in memory."""
        at = at or timezone.now()
        return (
            self.valid_from <= at
            and (self.valid_until is None or self.valid_until > at)
            and (self.ended_at is None or self.ended_at > at)
        )

    @property
    def ends_at(self) -> datetime.datetime | None:
        """When it stops (or stopped) counting: the end of its period or the moment it was ended."""
        ends = [moment for moment in (self.valid_until, self.ended_at) if moment is not None]
        return min(ends) if ends else None

    @property
    def came_of_age(self) -> bool:
        """Custody that ran to the child's 18th birthday."""
        return (
            self.kind == Kind.PARENTAL_CUSTODY
            and self.valid_until is not None
            and self.valid_until == coming_of_age(self.represented_national_id)
            and (self.ended_at is None or self.ended_at >= self.valid_until)
        )


class RegisterImport(models.Model):
    """One run of the register import: which file, and what it did."""

    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    added = models.PositiveIntegerField(_("added"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    ended = models.PositiveIntegerField(_("ended"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    rejections = models.JSONField(_("rejected lines"), default=list)

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.started_at:%Y-%m-%d %H:%M}"


def _family_court_scope(records, authority):
    # Guardianships are decided by the family court authority, so they are its caseworkers' records.
    if authority.slug != settings.FAMILY_COURT_AUTHORITY_SLUG:
        return records.none()
    return records.filter(kind=Kind.GUARDIANSHIP)


register_caseworker_scope(Representation, _family_court_scope)
