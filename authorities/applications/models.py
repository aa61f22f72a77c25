import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from attorney.acting import Task, register_right_tasks
from attorney.models import JointAppointment
from authorities.catalogue.models import CitizenFile, Right, Service, TranslatedNameMixin, private_storage
from authorities.catalogue.selectors import register_caseworker_scope


def application_attachment_path(instance: "Application", filename: str) -> str:
    return f"applications/{instance.pk}.pdf"


class ApplicationValueKind(models.TextChoices):
    AMOUNT = "amount", _("Amount in kroner")
    DATE = "date", _("Date")


class ApplicationForm(TranslatedNameMixin, models.Model):
    """How a service takes applications: the right needed to apply and the typed field it asks for."""

    service = models.OneToOneField(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="application_form"
    )
    right = models.ForeignKey(
        Right, verbose_name=_("right needed to apply"), on_delete=models.PROTECT, related_name="+"
    )
    value_kind = models.CharField(_("typed field"), max_length=10, choices=ApplicationValueKind.choices)
    value_label_da = models.CharField(_("field label (Danish)"), max_length=200)
    value_label_en = models.CharField(_("field label (English)"), max_length=200)
    amount_min = models.DecimalField(_("lowest amount"), max_digits=12, decimal_places=2, default=0)
    amount_max = models.DecimalField(_("highest amount"), max_digits=12, decimal_places=2, default=1_000_000)

    class Meta:
        verbose_name = _("application form")
        verbose_name_plural = _("application forms")

    def __str__(self) -> str:
        return str(self.service)

    @property
    def value_label(self) -> str:
        return self._translated("value_label")


class ApplicationStatus(models.TextChoices):
    # Made by one of several attorneys appointed jointly: waits for another of them, unseen by the
    # authority, and ends there if one of them stops it.
    ON_HOLD = "on_hold", _("Waiting for the other attorney's approval")
    STOPPED = "stopped", _("Stopped by an attorney")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    """An application to a service, by the citizen or by an attorney for them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="+"
    )
    citizen_file = models.ForeignKey(
        CitizenFile, verbose_name=_("citizen file"), on_delete=models.PROTECT, related_name="applications"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("on behalf of"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"), max_length=5000)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    date_value = models.DateField(_("date"), null=True, blank=True)
    attachment = models.FileField(
        _("attachment (PDF)"), storage=private_storage, upload_to=application_attachment_path, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    decision_text = models.TextField(_("decision"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    joint_appointment = models.ForeignKey(
        JointAppointment,
        verbose_name=_("made under a joint appointment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by the other attorney"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved by the other attorney"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("stopped by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="application_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="on_hold") | models.Q(joint_appointment__isnull=False),
                name="application_held_only_when_joint",
            ),
            # Jointly means two people: nobody approves their own application.
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("submitted_by")),
                name="application_approved_by_another",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="stopped")
                | models.Q(stopped_by__isnull=False, stopped_at__isnull=False),
                name="application_stopped_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} – {self.get_status_display()}"


#: Applications the authority has not received: held for a co-attorney's approval, or stopped.
NOT_SENT_STATUSES = (ApplicationStatus.ON_HOLD, ApplicationStatus.STOPPED)

register_caseworker_scope(
    Application,
    lambda records, authority: records.filter(citizen_file__authority=authority).exclude(
        status__in=NOT_SENT_STATUSES
    ),
)


def _application_tasks(rights) -> dict:
    """A right needed to apply for a service leads to that service's application form."""
    from django.urls import reverse
    from django.utils.translation import gettext

    forms = ApplicationForm.objects.filter(right__in=[right.pk for right in rights]).select_related(
        "service__authority"
    )
    return {
        form.right_id: Task(
            url=reverse("authorities:apply", args=[form.service.authority.slug, form.service.slug]),
            label=gettext("Apply: %(service)s") % {"service": form.service.name},
        )
        for form in forms
    }


register_right_tasks(_application_tasks)
