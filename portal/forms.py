from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from .cpr import normalize_cpr
from .models import Language, User


class CprNumberField(forms.CharField):
    """A CPR number as people type it (with or without the hyphen), cleaned to its 10 digits."""

    def __init__(self, *, label, **kwargs):
        kwargs.setdefault("help_text", _("10 digits, with or without a hyphen."))
        kwargs.setdefault("widget", forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(label=label, max_length=11, **kwargs)

    def clean(self, value) -> str:
        return normalize_cpr(super().clean(value))


def add_service_errors(form, error: ValidationError | PermissionDenied) -> None:
    """Show a service's refusal on the form: an ``Invalid`` or ``Conflict`` on its field if the form
    has it, else on top; a ``NotAllowed`` on top."""
    if isinstance(error, PermissionDenied):
        form.add_error(None, str(error))
    elif hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class SignupForm(AllauthSignupForm):
    """Allauth's sign-up with the person's name, CPR number and language."""

    name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput({"autocomplete": "name"})
    )
    national_id = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        help_text=_("10 digits, with or without a hyphen: DDMMYY-SSSS."),
        widget=forms.TextInput({"autocomplete": "off", "inputmode": "numeric"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, initial=Language.DANISH
    )

    field_order = ["name", "national_id", "email", "password1", "password2", "preferred_language"]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Enter your full name."))
        return name

    def clean_national_id(self) -> str:
        cpr = normalize_cpr(self.cleaned_data["national_id"])
        # Only a verified owner blocks the number. An unverified claim does not: the real person must
        # not be locked out by someone who typed their number first, and the answer is then the same
        # as for a number nobody uses.
        if User.objects.with_verified_cpr(cpr).exists():
            raise ValidationError(
                _("An account with this CPR number already exists. Log in, or reset your password."),
                code="cpr_taken",
            )
        return cpr

    def custom_signup(self, request, user) -> None:
        user.name = self.cleaned_data["name"]
        user.national_id = self.cleaned_data["national_id"]
        user.preferred_language = self.cleaned_data["preferred_language"]
        user.save(update_fields=["name", "national_id", "preferred_language"])
