"""Read-only lists of powers of attorney and requests for the pages. Who may act for whom is decided
in ``attorney.policy``."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from authorities.catalogue.models import Right
from organisations.selectors import administered_by
from portal.models import User

from .models import AttorneyRequest, EmergencyRequest, EmergencyStatus, PowerOfAttorney, RequestStatus, Status


def _rights_with_authority() -> Prefetch:
    """A mandate's rights with their service and authority, as every page that lists them needs."""
    return Prefetch("rights", queryset=Right.objects.select_related("service__authority"))


def mandates_given(grantor: User) -> QuerySet[PowerOfAttorney]:
    return (
        PowerOfAttorney.objects.filter(grantor=grantor)
        .select_related("attorney")
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


def rights_catalogue() -> list[Right]:
    return list(
        Right.objects.select_related("service__authority").order_by("service__authority__name_da", "code")
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
        .select_related("grantor", "attorney")
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
    return mandates.select_related("grantor", "attorney", "organisation").prefetch_related(
        Prefetch("rights", queryset=own_rights, to_attr="own_rights")
    )


def organisation_mandates(organisation) -> QuerySet[PowerOfAttorney]:
    """The powers of attorney given to an organisation that are waiting or in force, newest first."""
    return (
        PowerOfAttorney.objects.filter(organisation=organisation, status__in=[Status.PENDING, Status.ACTIVE])
        .select_related("grantor")
        .prefetch_related(_rights_with_authority())
        .order_by("-created_at")
    )
