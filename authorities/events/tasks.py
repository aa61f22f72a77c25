from celery import shared_task

from . import services


# The name stays what it was before the app was divided into floors, so queued tasks still run.
@shared_task(name="authorities.tasks.deliver_webhook", bind=True, max_retries=10)
def deliver_webhook(self, delivery_id: int) -> bool:
    """Send an event to a webhook, retrying with exponential backoff (1 s, 2 s, 4 s … up to an hour)."""
    final = self.request.retries >= self.max_retries
    try:
        return services.attempt_webhook_delivery(delivery_id=delivery_id, final_attempt=final)
    except services.WebhookDeliveryError as error:
        raise self.retry(exc=error, countdown=min(2**self.request.retries, 3600)) from error


@shared_task(name="authorities.tasks.resend_pending_webhooks")
def resend_pending_webhooks() -> int:
    """Beat: queue again webhook deliveries whose task was lost."""
    return services.resend_pending_webhooks()
