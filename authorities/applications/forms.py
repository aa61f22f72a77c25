from django import forms
from django.utils.translation import gettext_lazy as _

from attorney.forms import DateInput
from authorities.applications.models import (
    ApplicationForm,
    ApplicationValueKind,
)
from authorities.catalogue.validators import validate_pdf


class ApplicationSubmitForm(forms.Form):
    """The form a service takes applications with: a description, its typed field, an optional PDF."""

    description = forms.CharField(
        label=_("Describe your application"), max_length=5000, widget=forms.Textarea({"rows": 6})
    )
    attachment = forms.FileField(
        label=_("Attachment (PDF, at most 10 MB)"), required=False, validators=[validate_pdf]
    )

    def __init__(self, *args, application_form: ApplicationForm, **kwargs):
        super().__init__(*args, **kwargs)
        if application_form.value_kind == ApplicationValueKind.AMOUNT:
            self.fields["amount"] = forms.DecimalField(
                label=application_form.value_label,
                min_value=application_form.amount_min,
                max_value=application_form.amount_max,
                max_digits=12,
                decimal_places=2,
                localize=True,
                help_text=_("In kroner."),
            )
        else:
            self.fields["date_value"] = forms.DateField(
                label=application_form.value_label, widget=DateInput()
            )
        self.order_fields(["description", "amount", "date_value", "attachment"])
