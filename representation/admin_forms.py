"""Forms for the family court authority's caseworkers. They check only what was typed; the rules
live in representation.services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.forms import CprNumberField

from .models import Scope


class GuardianshipForm(forms.Form):
    ward_national_id = CprNumberField(label=_("The ward's CPR number"))
    guardian_national_id = CprNumberField(label=_("The guardian's CPR number"))
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=Scope.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "The catalogue of each authority says which rights personal and financial matters cover."
        ),
    )
    decision_reference = forms.CharField(label=_("Decision reference"), max_length=100)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput({"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until and including"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text=_("Leave empty if the decision has no end date."),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end must be after the start."))
        return cleaned


class EndGuardianshipForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea({"rows": 4, "cols": 80}),
        help_text=_("For example the decision that ends the guardianship. The ward will see it."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason, e.g. the decision that ends it."))
        return reason
