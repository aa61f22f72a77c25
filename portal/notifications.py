"""Telling people what happened: an in-portal notice always, and an email sent once by a task."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from .models import Notice, OutboundEmail, User


def notify(
    *,
    recipient: User,
    event_key: str,
    template: str,
    context: dict,
    link: str = "",
) -> None:
    """Store a notice and queue one email, rendered in the recipient's own language.

    ``event_key`` identifies the event for this recipient; notifying twice for the same key
    sends nothing more. The email task is scheduled only when the surrounding transaction commits,
    so work that rolls back never reaches anyone.
    """
    from .tasks import send_outbound_email

    with translation.override(recipient.preferred_language or "da"):
        context = {**context, "recipient": recipient, "link": settings.PORTAL_BASE_URL + link if link else ""}
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", {**context, "subject": subject})
    key = f"{event_key}:{recipient.pk}"
    email, created = OutboundEmail.objects.get_or_create(
        idempotency_key=key,
        defaults={"recipient": recipient.email, "subject": subject, "body": body},
    )
    if not created:
        return
    Notice.objects.create(recipient=recipient, subject=subject, body=body, link=link)
    # robust: a broker that is down must not stop the other callbacks; the resend job catches up.
    transaction.on_commit(lambda: send_outbound_email.delay(email.pk), robust=True)
