from django.db.models import QuerySet

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
