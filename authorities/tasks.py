from celery import shared_task

from . import services


@shared_task
def expire_due_consents() -> int:
    """Beat: mark ended consents as expired (the check API already says no at valid_until)."""
    return services.expire_due_consents()


@shared_task
def send_consent_reminders() -> int:
    return services.send_consent_reminders()
