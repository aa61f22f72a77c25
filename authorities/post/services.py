from django.db import transaction
from django.utils.translation import gettext as _

from authorities.catalogue.models import Authority
from authorities.catalogue.services import get_or_create_citizen_file
from authorities.catalogue.validators import validate_pdf
from authorities.post.models import Letter, LetterRead
from portal.audit import record_event
from portal.errors import Invalid
from portal.models import User


def send_letter(
    *,
    authority: Authority,
    citizen: User,
    subject: str,
    body: str,
    attachment=None,
    attachment_name: str = "",
) -> Letter:
    """An authority sends a letter; it lands on the citizen's file there, so existing grants cover it.

    A letter needs a subject and a text, and an attachment must be a PDF."""
    with transaction.atomic(durable=True):
        return write_letter(
            authority=authority,
            citizen=citizen,
            subject=subject,
            body=body,
            attachment=attachment,
            attachment_name=attachment_name,
        )


def write_letter(
    *,
    authority: Authority,
    citizen: User,
    subject: str,
    body: str,
    attachment=None,
    attachment_name: str = "",
) -> Letter:
    """``send_letter`` inside the caller's transaction, for actions that send a letter as one of
    their steps (a decision on an application is never without its letter)."""
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise Invalid(_("A letter needs a subject and a text."))
    if attachment is not None:
        validate_pdf(attachment)
    citizen_file = get_or_create_citizen_file(citizen=citizen, authority=authority)
    letter = Letter(citizen_file=citizen_file, subject=subject, body=body)
    if attachment is not None:
        letter.attachment_name = (attachment_name or getattr(attachment, "name", "") or "bilag.pdf")[:200]
        letter.attachment.save(f"{letter.pk}.pdf", attachment, save=False)
    letter.save()
    record_event(action="letter.sent", actor=None, principal=citizen, authority=authority, target=letter)
    return letter


def mark_letter_read(*, letter: Letter, acting_user: User, on_behalf_of: User) -> None:
    """The first time a person opens a letter it is read by them (for the citizen, if acting); a
    letter read for someone else is in their "done in my name"."""
    with transaction.atomic(durable=True):
        _, created = LetterRead.objects.get_or_create(
            letter=letter, reader=acting_user, defaults={"on_behalf_of": on_behalf_of}
        )
        if created and acting_user.pk != on_behalf_of.pk:
            record_event(
                action="letter.read",
                actor=acting_user,
                principal=on_behalf_of,
                authority=letter.citizen_file.authority,
                target=letter,
                details={"subject": letter.subject},
            )


def record_attachment_download(*, letter: Letter, acting_user: User, on_behalf_of: User) -> None:
    """An attachment downloaded for someone else is in their "done in my name"."""
    if acting_user.pk != on_behalf_of.pk:
        record_event(
            action="letter.attachment_downloaded",
            actor=acting_user,
            principal=on_behalf_of,
            authority=letter.citizen_file.authority,
            target=letter,
        )
