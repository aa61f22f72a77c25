from celery import shared_task

from . import services


# Names as the beat schedule knows them (settings.CELERY_BEAT_SCHEDULE).
@shared_task(name="authorities.tasks.expire_due_consents")
def expire_due_consents() -> int:
    """Beat: mark ended consents as expired (the check API already says no at valid_until)."""
    return services.expire_due_consents()


@shared_task(name="authorities.tasks.send_consent_reminders")
def send_consent_reminders() -> int:
    return services.send_consent_reminders()
