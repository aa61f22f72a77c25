"""The app's Celery tasks, each defined on its floor; Celery's autodiscovery looks here."""

from .consent.tasks import expire_due_consents, send_consent_reminders
from .events.tasks import deliver_webhook, resend_pending_webhooks

__all__ = ["deliver_webhook", "expire_due_consents", "resend_pending_webhooks", "send_consent_reminders"]
