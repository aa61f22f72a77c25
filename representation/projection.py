"""The guardian rows of legal representations: a projection of the relation, like a mandate's.

One row per right the relation covers (by the catalogue) on the represented person's file at that
right's authority, held by the representative's verified account and carrying the relation's
period, so guardian's own checks say no the second custody ends or the child turns 18. Rows are
written only when both people have a verified account; ``identity_verified`` writes them later for
someone who verifies after the relation was registered. ``attorney.policy`` reads them.
"""

from collections.abc import Iterable

from django.db.models import Q

from authorities.catalogue.models import CitizenFileUserObjectPermission, Right
from authorities.catalogue.services import get_or_create_citizen_file
from portal.models import User

from .models import Kind, Representation


def rights_covered(representation: Representation):
    """The catalogue's rights this relation includes."""
    if representation.kind == Kind.PARENTAL_CUSTODY:
        return Right.objects.filter(for_custodians=True)
    return Right.objects.filter(matters__in=representation.covered_matters)


def project(representation: Representation) -> int:
    """Write (again) the relation's guardian rows; returns how many. Call inside the caller's transaction."""
    remove([representation])
    ends = representation.ends_at
    if ends is not None and ends <= representation.valid_from:
        return 0
    represented = User.objects.with_verified_cpr(representation.represented_national_id).first()
    representative = User.objects.with_verified_cpr(representation.representative_national_id).first()
    if represented is None or representative is None:
        return 0
    rows = []
    for right in rights_covered(representation).select_related("service__authority", "permission"):
        if right.permission_id is None:
            continue
        rows.append(
            CitizenFileUserObjectPermission(
                user=representative,
                permission=right.permission,
                content_object=get_or_create_citizen_file(
                    citizen=represented, authority=right.service.authority
                ),
                representation=representation,
                valid_from=representation.valid_from,
                valid_until=ends,
            )
        )
    CitizenFileUserObjectPermission.all_rows.bulk_create(rows)
    return len(rows)


def remove(representations: Iterable[Representation]) -> None:
    CitizenFileUserObjectPermission.all_rows.filter(representation__in=list(representations)).delete()


def project_for_person(national_id: str) -> int:
    """Rows for every relation not ended that names this person, on either side."""
    relations = Representation.objects.current().filter(
        Q(represented_national_id=national_id) | Q(representative_national_id=national_id)
    )
    return sum(project(relation) for relation in relations)
