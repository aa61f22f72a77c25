from django.utils import timezone

from .models import Notice, User


def mark_notices_read(*, recipient: User, notice_ids: list[int]) -> int:
    """Notices count as read once shown to their recipient; nobody else's are touched."""
    return Notice.objects.filter(recipient=recipient, pk__in=notice_ids, read_at__isnull=True).update(
        read_at=timezone.now()
    )
