from django.db.models import Exists, OuterRef, QuerySet

from attorney.policy import permitted_files, rights_in_force
from authorities.catalogue.models import CitizenFile
from authorities.post.models import Letter, LetterRead
from portal.models import User

READ_MAIL = "read_mail"


def mail_files(*, actor: User, principal: User) -> QuerySet[CitizenFile]:
    """Files whose letters the actor may read for the principal: all of their own, or by read_mail."""
    if actor.pk == principal.pk:
        return CitizenFile.objects.filter(citizen=principal)
    rights = [
        r for r in rights_in_force(actor=actor, principal=principal) if r.code.endswith(f".{READ_MAIL}")
    ]
    return permitted_files(actor=actor, principal=principal, rights=rights)


def inbox(*, actor: User, principal: User, authority_id: int | None = None) -> QuerySet[Letter]:
    """Letters the actor may read for the principal, newest first, marked unread for this reader."""
    letters = Letter.objects.filter(citizen_file__in=mail_files(actor=actor, principal=principal))
    if authority_id is not None:
        letters = letters.filter(citizen_file__authority_id=authority_id)
    return (
        letters.select_related("citizen_file__authority")
        .annotate(is_read=Exists(LetterRead.objects.filter(letter=OuterRef("pk"), reader=actor)))
        .order_by("-sent_at")
    )


def visible_letter(*, actor: User, principal: User, letter_id) -> Letter | None:
    return inbox(actor=actor, principal=principal).filter(pk=letter_id).first()
