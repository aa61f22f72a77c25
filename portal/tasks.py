from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import OutboundEmail


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_outbound_email(email_id: int) -> bool:
    """Send a queued email unless it has been sent already; True if this run sent it.

    The row stays locked while sending, so a duplicate delivery of the task waits and then finds
    the email marked as sent.
    """
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id, sent_at__isnull=True).first()
        if email is None:
            return False
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient])
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["sent_at", "attempts"])
    return True
