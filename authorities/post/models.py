import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from attorney.acting import Task, register_right_tasks
from authorities.catalogue.models import CitizenFile, private_storage
from authorities.catalogue.selectors import register_caseworker_scope


def letter_attachment_path(instance: "Letter", filename: str) -> str:
    return f"letters/{instance.pk}.pdf"


class Letter(models.Model):
    """A letter (digital post) from an authority to a citizen, kept on the citizen's file there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen_file = models.ForeignKey(
        CitizenFile, verbose_name=_("citizen file"), on_delete=models.PROTECT, related_name="letters"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    attachment = models.FileField(
        _("attachment (PDF)"), storage=private_storage, upload_to=letter_attachment_path, blank=True
    )
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["citizen_file", "-sent_at"], name="letter_file_sent")]

    def __str__(self) -> str:
        return self.subject


class LetterRead(models.Model):
    """Who has opened a letter, and for whom: a letter read by an attorney is read by them for the citizen."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="reads")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("letter read")
        verbose_name_plural = _("letters read")
        constraints = [
            models.UniqueConstraint(fields=["letter", "reader"], name="letter_read_once_per_reader")
        ]

    def __str__(self) -> str:
        return f"{self.letter} read by {self.reader}"


register_caseworker_scope(
    Letter, lambda records, authority: records.filter(citizen_file__authority=authority)
)


def _read_mail_tasks(rights) -> dict:
    """A right to read an authority's letters leads to the letters from that authority."""
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext

    return {
        right.pk: Task(
            url=f"{reverse('authorities:inbox')}?{urlencode({'authority': right.service.authority_id})}",
            label=gettext("Read the letters from %(authority)s")
            % {"authority": right.service.authority.name},
        )
        for right in rights
        if right.code.endswith(".read_mail")
    }


register_right_tasks(_read_mail_tasks)
