"""Telling people what happened: an in-portal notice always, and an email sent once by a task."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from .models import Notice, OutboundEmail, User


def _in_language(params: dict, language: str) -> dict:
    """Parameters for one language: a value given per language ({"da": ..., "en": ...}) is
    narrowed to that language; names, dates and flags are the same in every language."""
    chosen = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) <= {"da", "en"} and value:
            value = value.get(language) or value.get("da") or next(iter(value.values()))
        chosen[key] = value
    return chosen


def _subject(template: str, params: dict, language: str) -> str:
    return " ".join(render_to_string(f"{template}_subject.txt", _in_language(params, language)).split())


def notice_subject(notice: Notice) -> str:
    """The notice's subject in the active language, written from its template and parameters."""
    if not notice.template:
        return notice.subject
    return _subject(notice.template, notice.params, translation.get_language() or "da") or notice.subject


def notify(
    *,
    recipient: User,
    event_key: str,
    template: str,
    context: dict,
    params: dict | None = None,
    link: str = "",
) -> None:
    """Store a notice and queue one email, the email in the recipient's own language.

    The subject template sees only ``params``: plain values (names, an event word, flags), or a
    value per language for anything translated such as an authority's name. They are stored with
    the notice, so each reader gets it in the language they read in. The email body also sees
    ``context`` (model objects), and is written once, in the recipient's preferred language.

    ``event_key`` identifies the event for this recipient; notifying twice for the same key
    sends nothing more. The email task is scheduled only when the surrounding transaction commits,
    so work that rolls back never reaches anyone.
    """
    from .tasks import send_outbound_email

    params = dict(params or {})
    language = recipient.preferred_language or "da"
    with translation.override(language):
        subject = _subject(template, params, language)
        link_url = settings.PORTAL_BASE_URL + link if link else ""
        body = render_to_string(
            f"{template}_body.txt",
            {
                **_in_language(params, language),
                **context,
                "recipient": recipient,
                "link": link_url,
                "subject": subject,
            },
        )
    key = f"{event_key}:{recipient.pk}"
    email, created = OutboundEmail.objects.get_or_create(
        idempotency_key=key,
        defaults={"recipient": recipient.email, "subject": subject, "body": body},
    )
    if not created:
        return
    Notice.objects.create(
        recipient=recipient, subject=subject, body=body, link=link, template=template, params=params
    )
    # robust: a broker that is down must not stop the other callbacks; the resend job catches up.
    transaction.on_commit(lambda: send_outbound_email.delay(email.pk), robust=True)


def email_address(
    *, address: str, event_key: str, template: str, context: dict, language: str = "da"
) -> None:
    """Queue one email to an address that may belong to nobody in the portal yet (an invitation),
    in ``language``; there is no notice, as there is no account to show it in. Sent once per
    ``event_key``, and only if the surrounding transaction commits."""
    from .tasks import send_outbound_email

    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", {**context, "subject": subject})
    email, created = OutboundEmail.objects.get_or_create(
        idempotency_key=event_key, defaults={"recipient": address, "subject": subject, "body": body}
    )
    if created:
        transaction.on_commit(lambda: send_outbound_email.delay(email.pk), robust=True)
