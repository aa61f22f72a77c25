import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboundEmail

MAX_EMAIL_ATTEMPTS = 8


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=MAX_EMAIL_ATTEMPTS
)
def send_outbound_email(email_id: int) -> bool:
    """Send a queued email unless it has been sent already; True if this run sent it.

    The row stays locked while sending, so a duplicate delivery of the task waits and then finds
    the email marked as sent. A failed attempt is written down outside the rolled-back transaction.
    """
    try:
        with transaction.atomic():
            email = (
                OutboundEmail.objects.select_for_update().filter(pk=email_id, sent_at__isnull=True).first()
            )
            if email is None:
                return False
            send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient])
            email.sent_at = timezone.now()
            email.attempts += 1
            email.last_error = ""
            email.save(update_fields=["sent_at", "attempts", "last_error"])
    except OSError as error:
        OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=str(error)[:1000]
        )
        raise
    return True


@shared_task
def resend_unsent_emails() -> int:
    """Beat: queue again emails that were never sent (the broker was down, or the retries ran out)."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    ids = list(
        OutboundEmail.objects.filter(
            sent_at__isnull=True, created_at__lte=stale, attempts__lt=MAX_EMAIL_ATTEMPTS * 3
        ).values_list("pk", flat=True)[:1000]
    )
    for email_id in ids:
        send_outbound_email.delay(email_id)
    return len(ids)


@shared_task(ignore_result=True)
def sequence_audit_log() -> int:
    """Beat, every second, and on demand: integrate committed audit events into the log's tree."""
    from .tlog import sequence

    checkpoint = sequence()
    return checkpoint.tree_size if checkpoint else 0
