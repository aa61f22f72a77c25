from celery import shared_task

from . import services


@shared_task
def expire_due_powers_of_attorney() -> int:
    """Beat: end due powers of attorney and remove their permissions (access already stopped at valid_until)."""
    return services.expire_due()


@shared_task
def send_expiry_reminders() -> int:
    return services.send_expiry_reminders()


@shared_task
def send_expiry_notices(mandate_ids: list[str]) -> int:
    return services.send_expiry_notices(mandate_ids=mandate_ids)
