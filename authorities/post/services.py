from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from authorities.catalogue.models import Authority
from authorities.catalogue.services import get_or_create_citizen_file
from authorities.catalogue.validators import validate_pdf
from authorities.post.models import Letter, LetterRead
from portal.audit import record_event
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
    """An authority sends a letter; it lands on the citizen's file there, so existing grants cover it."""
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ValidationError(_("A letter needs a subject and a text."))
    if attachment is not None:
        validate_pdf(attachment)
    with transaction.atomic():
        citizen_file = get_or_create_citizen_file(citizen=citizen, authority=authority)
        letter = Letter(citizen_file=citizen_file, subject=subject, body=body)
        if attachment is not None:
            letter.attachment_name = (attachment_name or getattr(attachment, "name", "") or "bilag.pdf")[:200]
            letter.attachment.save(f"{letter.pk}.pdf", attachment, save=False)
        letter.save()
        record_event(action="letter.sent", actor=None, principal=citizen, authority=authority, target=letter)
    return letter


def mark_letter_read(*, letter: Letter, reader: User, on_behalf_of: User) -> None:
    """The first time a person opens a letter it is read by them (for the citizen, if acting)."""
    with transaction.atomic():
        _, created = LetterRead.objects.get_or_create(
            letter=letter, reader=reader, defaults={"on_behalf_of": on_behalf_of}
        )
        if created and reader.pk != on_behalf_of.pk:
            record_event(
                action="letter.read",
                actor=reader,
                principal=on_behalf_of,
                authority=letter.citizen_file.authority,
                target=letter,
                details={"subject": letter.subject},
            )


def record_attachment_download(*, letter: Letter, reader: User, on_behalf_of: User) -> None:
    if reader.pk != on_behalf_of.pk:
        record_event(
            action="letter.attachment_downloaded",
            actor=reader,
            principal=on_behalf_of,
            authority=letter.citizen_file.authority,
            target=letter,
        )
