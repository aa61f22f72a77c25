from django.db.models import QuerySet

from portal.models import User

from .models import Membership, Organisation, Role


def memberships_of(user: User) -> QuerySet[Membership]:
    """The person's current places in organisations, organisation loaded."""
    return (
        Membership.objects.current()
        .filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def administered_by(user: User) -> QuerySet[Organisation]:
    """Organisations the person is a current administrator of."""
    return Organisation.objects.filter(
        pk__in=Membership.objects.current()
        .filter(user=user, role=Role.ADMINISTRATOR)
        .values("organisation_id")
    )


def membership_in(*, user: User, organisation_id) -> Membership | None:
    """The person's current place in the organisation, or None: the way into its pages."""
    return (
        Membership.objects.current()
        .filter(user=user, organisation_id=organisation_id)
        .select_related("organisation")
        .first()
    )


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    """Everyone in the organisation or invited to it who has not left (or been removed, or had the
    invitation withdrawn): administrators first, then by name."""
    return (
        Membership.objects.filter(organisation=organisation, left_at__isnull=True)
        .select_related("user", "invited_by")
        .order_by("role", "invited_name", "invited_at")
    )


def member_of(*, organisation: Organisation, membership_id) -> Membership | None:
    """One place in the organisation that has not ended (a member or an open invitation), or None."""
    return (
        Membership.objects.filter(organisation=organisation, left_at__isnull=True, pk=membership_id)
        .select_related("organisation", "user", "invited_by")
        .first()
    )


def is_member_of_any(user: User) -> bool:
    """Whether the person belongs to some organisation now: the menu shows its pages only then."""
    return Membership.objects.current().filter(user=user).exists()


def organisation_by_cvr_and_name(*, cvr: str, name: str) -> Organisation | None:
    """The registered organisation with this CVR number, if the name given matches its registered
    name (case and spacing aside): a citizen names the organisation they give a power of attorney to
    the way they name a person, so a slip in the number does not reach a stranger."""
    organisation = Organisation.objects.filter(cvr=cvr).first()
    if organisation is None:
        return None
    same = " ".join(name.split()).casefold() == " ".join(organisation.name.split()).casefold()
    return organisation if same else None
