"""Read-only lists of powers of attorney and requests for the pages. Who may act for whom is decided
in ``attorney.policy``."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from authorities.catalogue.models import Right
from organisations.models import Membership, Organisation, Role
from organisations.selectors import administered_by, members_of
from portal.models import User

from .models import (
    AttorneyRequest,
    EmergencyRequest,
    EmergencyStatus,
    OrganisationAccess,
    PowerOfAttorney,
    RequestStatus,
    Status,
)
from .policy import access_in_force, covering, members_who_may_use, organisation_mandates_usable_by


def _rights_with_authority() -> Prefetch:
    """A mandate's rights with their service and authority, as every page that lists them needs."""
    return Prefetch("rights", queryset=Right.objects.select_related("service__authority"))


def mandates_given(grantor: User) -> QuerySet[PowerOfAttorney]:
    return (
        PowerOfAttorney.objects.filter(grantor=grantor)
        .select_related("attorney", "organisation")
        .prefetch_related(_rights_with_authority())
    )


def mandates_received(attorney: User) -> QuerySet[PowerOfAttorney]:
    return (
        PowerOfAttorney.objects.filter(attorney=attorney)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def visible_mandate(*, user: User, mandate_id) -> PowerOfAttorney | None:
    """A mandate the user is a party to (grantor, attorney, or an administrator of the organisation
    it is given to), or None."""
    return (
        PowerOfAttorney.objects.filter(
            Q(grantor=user) | Q(attorney=user) | Q(organisation__in=administered_by(user)), pk=mandate_id
        )
        .select_related("grantor", "attorney", "organisation", "created_by", "ended_by", "replaces")
        .prefetch_related(_rights_with_authority())
        .first()
    )


def open_requests_to(grantor: User) -> QuerySet[AttorneyRequest]:
    return (
        AttorneyRequest.objects.filter(grantor=grantor, status=RequestStatus.PENDING)
        .select_related("requester")
        .prefetch_related(_rights_with_authority())
    )


def requests_made_by(requester: User) -> QuerySet[AttorneyRequest]:
    return (
        AttorneyRequest.objects.filter(requester=requester)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def invitations_for(user: User) -> QuerySet[PowerOfAttorney]:
    """Pending powers of attorney addressed to the user, also those made out to their CPR number and
    name before they had an account. An unverified account is addressed by nothing: its CPR number
    is only a claim, so it learns nothing of what waits for that number."""
    if not user.is_identity_verified:
        return PowerOfAttorney.objects.none()
    addressed = Q(attorney=user) | Q(
        attorney__isnull=True,
        invitee_national_id=user.national_id,
        invitee_name__iexact=" ".join(user.name.split()),
    )
    return (
        PowerOfAttorney.objects.filter(addressed, status=Status.PENDING, valid_until__gt=timezone.now())
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
    )


def offer_waiting_for(*, attorney: User, grantor: User, right: Right) -> PowerOfAttorney | None:
    """A power of attorney from ``grantor`` with ``right`` that waits for ``attorney`` to accept it."""
    return invitations_for(attorney).filter(grantor=grantor, rights=right).order_by("-created_at").first()


def access_codes_of(mandate: PowerOfAttorney) -> QuerySet:
    """The mandate's access codes with who looked at them, newest first."""
    from .models import AccessCode

    return (
        AccessCode.objects.filter(power_of_attorney=mandate)
        .select_related("created_by")
        .prefetch_related("views")
    )


def mandate_summary(mandate_id) -> PowerOfAttorney | None:
    return (
        PowerOfAttorney.objects.filter(pk=mandate_id)
        .select_related("grantor", "attorney", "organisation")
        .prefetch_related(_rights_with_authority())
        .first()
    )


def emergency_request_for(*, user: User, emergency_id) -> EmergencyRequest | None:
    """An emergency request the user is the relative or the citizen of, or None."""
    return (
        EmergencyRequest.objects.filter(Q(relative=user) | Q(citizen=user), pk=emergency_id)
        .select_related("relative", "citizen", "power_of_attorney", "refused_by")
        .prefetch_related(Prefetch("rights", queryset=Right.objects.select_related("service__authority")))
        .first()
    )


def emergency_to_answer(citizen: User) -> EmergencyRequest | None:
    """An emergency power of attorney in force for the citizen that they have not yet been asked about."""
    return (
        EmergencyRequest.objects.filter(
            citizen=citizen,
            status=EmergencyStatus.APPROVED,
            citizen_answered_at__isnull=True,
            power_of_attorney__in=PowerOfAttorney.objects.in_force(),
        )
        .order_by("-created_at")
        .first()
    )


def emergency_requests_made(relative: User) -> QuerySet[EmergencyRequest]:
    return (
        EmergencyRequest.objects.filter(relative=relative).select_related("citizen").order_by("-created_at")
    )


def open_request_to(*, grantor: User, request_id) -> AttorneyRequest | None:
    """A request for a power of attorney addressed to the grantor and not yet answered, or None."""
    return (
        AttorneyRequest.objects.filter(pk=request_id, grantor=grantor, status=RequestStatus.PENDING)
        .select_related("requester")
        .first()
    )


def mandates_in_force_at_authority(
    *,
    authority_id: int,
    principal_national_id: str | None = None,
    attorney_national_id: str | None = None,
    organisation_cvr: str | None = None,
) -> QuerySet[PowerOfAttorney]:
    """Mandates in force with at least one right at the authority, for one grantor, one person
    attorney or one organisation as attorney; each carries only that authority's rights, as
    ``own_rights``. A person's list holds their own mandates, not their organisations'."""
    mandates = (
        PowerOfAttorney.objects.in_force().filter(rights__service__authority_id=authority_id).distinct()
    )
    if principal_national_id:
        mandates = mandates.filter(grantor__national_id=principal_national_id)
    elif organisation_cvr:
        mandates = mandates.filter(organisation__cvr=organisation_cvr)
    else:
        mandates = mandates.filter(attorney__national_id=attorney_national_id)
    own_rights = Right.objects.filter(service__authority_id=authority_id).order_by("code")
    return mandates.select_related(
        "grantor", "attorney", "organisation", "joint_appointment"
    ).prefetch_related(Prefetch("rights", queryset=own_rights, to_attr="own_rights"))


# --- Organisations as attorneys ----------------------------------------------------------------


def _current_access_of_members() -> Prefetch:
    """A mandate's current access rows, each with its member, as ``current_access``."""
    return Prefetch(
        "organisation_access",
        queryset=access_in_force().select_related("membership__user").order_by("membership__invited_name"),
        to_attr="current_access",
    )


@dataclass
class OrganisationMandates:
    """What an organisation's administrators manage: the powers of attorney waiting for their
    answer, those in force (each with ``current_access``: the members given it one by one), and
    the members with access to all of them."""

    pending: list[PowerOfAttorney]
    in_force: list[PowerOfAttorney]
    access_to_all: list[OrganisationAccess]


def organisation_mandates(organisation: Organisation) -> OrganisationMandates:
    """The organisation's powers of attorney to answer and those in force, with who may use them;
    a fixed number of queries however many there are."""
    now = timezone.now()
    pending = (
        PowerOfAttorney.objects.filter(organisation=organisation, status=Status.PENDING, valid_until__gt=now)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
        .order_by("created_at")
    )
    in_force = (
        PowerOfAttorney.objects.in_force(now)
        .filter(organisation=organisation)
        .select_related("grantor")
        .prefetch_related(_rights_with_authority(), _current_access_of_members())
        .order_by("grantor__name", "valid_until")
    )
    return OrganisationMandates(
        pending=list(pending), in_force=list(in_force), access_to_all=list(access_to_all_of(organisation))
    )


def access_to_all_of(organisation: Organisation) -> QuerySet[OrganisationAccess]:
    """Current access to all the organisation's powers of attorney, one row per member."""
    return (
        access_in_force()
        .filter(membership__organisation=organisation, power_of_attorney__isnull=True)
        .select_related("membership__user")
        .order_by("membership__invited_name")
    )


def _usable_now() -> Q:
    """Access rows that still mean something: to all, or to a mandate in force (the row of a mandate
    that has ended stays, as history, but gives nothing)."""
    return Q(power_of_attorney__isnull=True) | Q(power_of_attorney__in=PowerOfAttorney.objects.in_force())


def members_with_access(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's members and open invitations (``organisations.selectors.members_of``),
    each with ``current_access``: to all its powers of attorney, or one by one."""
    return members_of(organisation).prefetch_related(
        Prefetch(
            "access",
            queryset=OrganisationAccess.objects.current()
            .filter(_usable_now())
            .select_related("power_of_attorney__grantor")
            .order_by("power_of_attorney__grantor__name"),
            to_attr="current_access",
        )
    )


def mandates_in_force_of(organisation: Organisation) -> QuerySet[PowerOfAttorney]:
    """The organisation's powers of attorney in force, by grantor: what access can be given to."""
    return (
        PowerOfAttorney.objects.in_force()
        .filter(organisation=organisation)
        .select_related("grantor")
        .order_by("grantor__name", "valid_until")
    )


def mandates_to_give(membership: Membership) -> QuerySet[PowerOfAttorney]:
    """The organisation's powers of attorney in force that the member has no access to yet."""
    given = OrganisationAccess.objects.current().filter(
        membership=membership, power_of_attorney__isnull=False
    )
    return mandates_in_force_of(membership.organisation).exclude(pk__in=given.values("power_of_attorney_id"))


def members_to_give(mandate: PowerOfAttorney) -> QuerySet[Membership]:
    """The organisation's members who may not use its power of attorney yet (given neither it nor all)."""
    given = access_in_force().filter(covering(mandate))
    return (
        members_of(mandate.organisation)
        .filter(joined_at__isnull=False)
        .exclude(pk__in=given.values("membership_id"))
    )


def organisation_mandate(*, organisation: Organisation, mandate_id) -> PowerOfAttorney | None:
    """One power of attorney given to the organisation, with its grantor, rights and who may use it."""
    return (
        PowerOfAttorney.objects.filter(organisation=organisation, pk=mandate_id)
        .select_related("grantor", "organisation", "ended_by")
        .prefetch_related(_rights_with_authority(), _current_access_of_members())
        .first()
    )


def clients_of_member(membership: Membership) -> QuerySet[PowerOfAttorney]:
    """The organisation's powers of attorney in force that the member may use now, by client name."""
    if membership.user_id is None:
        return PowerOfAttorney.objects.none()
    return (
        PowerOfAttorney.objects.in_force()
        .filter(organisation_id=membership.organisation_id)
        .filter(organisation_mandates_usable_by(membership.user))
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
        .order_by("grantor__name", "valid_until")
    )


def access_of_member(membership: Membership) -> QuerySet[OrganisationAccess]:
    """The member's current access: to all the organisation's powers of attorney, or one by one to
    those in force."""
    return (
        OrganisationAccess.objects.current()
        .filter(_usable_now(), membership=membership)
        .select_related("power_of_attorney__grantor")
        .order_by("power_of_attorney__grantor__name")
    )


def organisation_access(*, organisation: Organisation, access_id) -> OrganisationAccess | None:
    """One current access row of a member of the organisation, or None."""
    return (
        OrganisationAccess.objects.current()
        .filter(pk=access_id, membership__organisation=organisation)
        .select_related("membership__user", "power_of_attorney__grantor")
        .first()
    )


def members_acting_through(mandate: PowerOfAttorney) -> list[User]:
    """Who of the organisation's members may use its power of attorney now (given it one by one or
    with all the organisation's), by name: the grantor sees who can act for them. Nobody while the
    power of attorney is not in force."""
    if not mandate.organisation_id or not mandate.is_in_force():
        return []
    return list(members_who_may_use(mandate).order_by("name"))


def organisations_with_offers(user: User) -> list[Organisation]:
    """Organisations the person administers that have powers of attorney waiting for an answer,
    each with ``waiting`` (how many)."""
    administered = Membership.objects.current().filter(user=user, role=Role.ADMINISTRATOR)
    waiting = Q(mandates__status=Status.PENDING, mandates__valid_until__gt=timezone.now())
    return list(
        Organisation.objects.filter(pk__in=administered.values("organisation_id"))
        .annotate(waiting=Count("mandates", filter=waiting))
        .filter(waiting__gt=0)
        .order_by("name")
    )
