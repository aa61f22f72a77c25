from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from .models import AuditEvent, Notice, User


def notices_for(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user).order_by("-created_at")


def unread_notice_count(user: User) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def events_about(*, target_type: str, target_id: str) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(target_type=target_type, target_id=target_id)
        .select_related("actor", "principal", "log_leaf")
        .order_by("created_at", "id")
    )


def visible_event(*, user: User, uuid) -> AuditEvent | None:
    """An audit event the person may see the log proof of: theirs as actor or principal, or about
    a power of attorney they are party to (its history is shown to both)."""
    from attorney.models import PowerOfAttorney

    event = AuditEvent.objects.filter(uuid=uuid).first()
    if event is None:
        return None
    if user.pk in (event.actor_id, event.principal_id):
        return event
    if event.target_type == "powerofattorney":
        try:
            mandates = PowerOfAttorney.objects.filter(pk=event.target_id)
            if mandates.filter(Q(grantor=user) | Q(attorney=user)).exists():
                return event
        except (ValueError, ValidationError):
            return None
    return None
