"""Forms for the caseworkers' custom admin views on powers of attorney.

They only check what a person typed; the rules live in attorney.services, and a service's
ValidationError is shown on these forms by the admin views.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Right
from authorities.catalogue.validators import validate_pdf
from portal.forms import CprNumberField

from .forms import PeriodMixin, RightsChoiceField


class PaperRegistrationForm(PeriodMixin):
    """A power of attorney that the grantor and the attorney signed on a paper form."""

    grantor_national_id = CprNumberField(label=_("The grantor's CPR number"))
    grantor_name = forms.CharField(
        label=_("The grantor's full name"),
        max_length=200,
        help_text=_("As on the signed form. It must be the name of the person with this CPR number."),
    )
    attorney_national_id = CprNumberField(label=_("The attorney's CPR number"))
    attorney_name = forms.CharField(
        label=_("The attorney's full name"),
        max_length=200,
        help_text=_("As on the signed form."),
    )
    rights = RightsChoiceField(queryset=Right.objects.none())
    document = forms.FileField(label=_("The signed form, scanned (PDF)"))
    identity_checked = forms.BooleanField(
        label=_("I have checked the grantor's identity, and both have signed the form."),
    )

    field_order = [
        "grantor_national_id",
        "grantor_name",
        "attorney_national_id",
        "attorney_name",
        "rights",
        "valid_from",
        "valid_until",
        "document",
        "identity_checked",
    ]

    def __init__(self, *args, rights: QuerySet[Right], **kwargs):
        super().__init__(*args, **kwargs)
        # Only rights the caseworker may register; a forged id is "not one of the available choices".
        self.fields["rights"].queryset = rights
        self.fields["document"].help_text = _("A PDF of at most %(limit)s.") % {
            "limit": filesizeformat(settings.MAX_UPLOAD_BYTES)
        }

    def clean_document(self):
        document = self.cleaned_data["document"]
        validate_pdf(document)
        return document


class CaseworkerRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea({"rows": 4, "cols": 80}),
        help_text=_(
            "For example: the grantor has died, or a court has decided a guardianship. "
            "Both parties will see the reason."
        ),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for revoking the power of attorney."))
        return reason


class EmergencyRefusalForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea({"rows": 4, "cols": 80}),
        help_text=_("The relative will see the reason."),
    )
