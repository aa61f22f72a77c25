from django.db.models import Q, QuerySet

from portal.models import AuditEvent, User


def done_in_name_of(principal: User) -> QuerySet[AuditEvent]:
    """Everything someone else did for the principal."""
    return (
        AuditEvent.objects.filter(principal=principal)
        .exclude(actor=principal)
        .exclude(actor__isnull=True)
        .select_related("actor", "authority")
        .order_by("-created_at", "-id")
    )


def done_for_others(actor: User) -> QuerySet[AuditEvent]:
    """Everything the actor did for other people."""
    return (
        AuditEvent.objects.filter(actor=actor, principal__isnull=False)
        .exclude(principal=actor)
        .select_related("principal", "authority")
        .order_by("-created_at", "-id")
    )


def audit_events_about_cpr(*, events: QuerySet[AuditEvent], cpr: str) -> QuerySet[AuditEvent]:
    """Events where the person with this (normalised) CPR acted, was acted for, or is the citizen or
    a party named in the details (an authority's decisions name the citizen only there)."""
    # Every account with the number: the verified owner and any that only claimed it, so a caseworker
    # looking into a misuse sees what the claimants did too.
    condition = Q()
    for person_id in User.objects.filter(national_id=cpr).values_list("pk", flat=True):
        condition |= (
            Q(actor_id=person_id)
            | Q(principal_id=person_id)
            | Q(details__citizen=person_id)
            | Q(details__grantor=person_id)
            | Q(details__attorney=person_id)
        )
    return events.filter(condition) if condition else events.none()
