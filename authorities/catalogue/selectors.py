from collections.abc import Callable

from django.db.models import QuerySet

from authorities.catalogue.models import (
    Authority,
    AuthorityMembership,
    CitizenFile,
    Right,
    Service,
)
from portal.models import AuditEvent, User


def authority_of_caseworker(user: User) -> Authority | None:
    """The one authority an active staff member works for, or None if they are not a caseworker.

    Memoised on the user object, because the admin asks several times per request.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if not hasattr(user, "_caseworker_authority"):
        membership = AuthorityMembership.objects.select_related("authority").filter(user=user).first()
        user._caseworker_authority = membership.authority if membership else None
    return user._caseworker_authority


#: How to find a model's records at one authority. Each floor registers its own models (at the end
#: of its models module), so this floor needs to know none of the floors above it.
_RECORDS_AT_AUTHORITY: dict[type, Callable[[QuerySet, Authority], QuerySet]] = {}


def register_caseworker_scope(
    model: type, records_at_authority: Callable[[QuerySet, Authority], QuerySet]
) -> None:
    """Caseworkers see ``model``'s records that ``records_at_authority(records, authority)`` keeps."""
    _RECORDS_AT_AUTHORITY[model] = records_at_authority


def _records_at_authority() -> dict[type, Callable[[QuerySet, Authority], QuerySet]]:
    return _RECORDS_AT_AUTHORITY


register_caseworker_scope(Authority, lambda records, authority: records.filter(pk=authority.pk))
register_caseworker_scope(Service, lambda records, authority: records.filter(authority=authority))
register_caseworker_scope(Right, lambda records, authority: records.filter(service__authority=authority))
register_caseworker_scope(CitizenFile, lambda records, authority: records.filter(authority=authority))
# The audit trail is on the floor below: its events at an authority are that authority's.
register_caseworker_scope(AuditEvent, lambda records, authority: records.filter(authority=authority))


def caseworker_scoped_models() -> frozenset[type]:
    """The models a caseworker can ever see in the admin; everything else is for the service desk."""
    return frozenset(_records_at_authority())


def in_caseworker_scope(*, user: User, records: QuerySet) -> QuerySet:
    """The part of ``records`` the user may see and change in the admin.

    Superusers (the national service desk) see everything; a caseworker sees the records of the
    authority they work for; anyone else, and any model not scoped to an authority, sees nothing.
    Every admin list, change view, search, filter, autocomplete, action and custom view reads
    through here, so the rule lives in one place.
    """
    if user.is_authenticated and user.is_active and user.is_superuser:
        return records
    authority = authority_of_caseworker(user)
    scope = _records_at_authority().get(records.model)
    if authority is None or scope is None:
        return records.none()
    return scope(records, authority)


def is_in_caseworker_scope(*, user: User, record) -> bool:
    """Whether one record is inside the user's scope (see ``in_caseworker_scope``)."""
    model = type(record)
    return in_caseworker_scope(user=user, records=model._default_manager.filter(pk=record.pk)).exists()
