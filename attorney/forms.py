import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Authority, Right
from organisations.cvr import normalize_cvr
from portal.cpr import normalize_cpr

from .models import EMERGENCY_MAX_DAYS, EMERGENCY_RIGHT, JointMode


def start_of(day: datetime.date) -> datetime.datetime:
    """A start date means from the beginning of that day in Denmark, or from now if it is today."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return max(start, timezone.now()) if day == timezone.localdate() else start


def end_of(day: datetime.date) -> datetime.datetime:
    """An end date includes the whole of that day in Denmark."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class RightsChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Right.objects.select_related("service__authority").order_by("code"))
        kwargs.setdefault("label", _("Rights"))
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Right) -> str:
        return obj.name


class RightsTreeMixin(forms.Form):
    """Rights chosen one by one, or all rights at an authority at once."""

    rights = RightsChoiceField(required=False)
    all_rights_at = forms.ModelMultipleChoiceField(
        queryset=Authority.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("All rights at the authority"),
    )

    def clean(self):
        cleaned = super().clean()
        chosen = set(cleaned.get("rights") or [])
        for authority in cleaned.get("all_rights_at") or []:
            chosen.update(Right.objects.filter(service__authority=authority))
        if not chosen and "rights" not in self.errors:
            self.add_error("rights", _("Choose at least one right."))
        cleaned["chosen_rights"] = sorted(chosen, key=lambda r: r.code)
        return cleaned

    def rights_tree(self) -> list[dict]:
        """Authorities → services → rights, for the template, with the current choices marked."""
        selected = {str(v) for v in (self["rights"].value() or [])}
        all_selected = {str(v) for v in (self["all_rights_at"].value() or [])}
        tree: dict[int, dict] = {}
        for right in self.fields["rights"].queryset:
            authority = right.service.authority
            node = tree.setdefault(
                authority.pk,
                {"authority": authority, "all": str(authority.pk) in all_selected, "services": {}},
            )
            service = node["services"].setdefault(right.service_id, {"service": right.service, "rights": []})
            service["rights"].append({"right": right, "checked": str(right.pk) in selected})
        return [
            {**node, "services": list(node["services"].values())}
            for node in sorted(tree.values(), key=lambda n: n["authority"].name)
        ]


class PeriodMixin(forms.Form):
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Valid until and including"),
        widget=DateInput(),
        help_text=_("A power of attorney always has an end date."),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and start < timezone.localdate():
            self.add_error("valid_from", _("The start cannot be in the past."))
        if start and end and end < start:
            self.add_error("valid_until", _("The end must be after the start."))
        if start and end and not self.errors:
            cleaned["valid_from_at"] = start_of(start)
            cleaned["valid_until_at"] = end_of(end)
        return cleaned


class AttorneyKind(models.TextChoices):
    PERSON = "person", _("A person")
    ORGANISATION = "organisation", _("An organisation, such as an accountant, a law firm or a bank")


class GrantForm(RightsTreeMixin, PeriodMixin):
    attorney_kind = forms.ChoiceField(
        label=_("Who should be your attorney?"),
        choices=AttorneyKind.choices,
        initial=AttorneyKind.PERSON,
        required=False,  # a person unless the organisation is chosen
        widget=forms.RadioSelect,
    )
    attorney_national_id = forms.CharField(
        label=_("The attorney's CPR number"),
        max_length=11,
        required=False,
        help_text=_("10 digits, with or without a hyphen."),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    attorney_name = forms.CharField(
        label=_("The attorney's full name"),
        max_length=200,
        required=False,
        help_text=_("As it is registered with the CPR number."),
    )
    cvr = forms.CharField(
        label=_("The organisation's CVR number"),
        max_length=20,
        required=False,
        help_text=_("8 digits. You find it on the organisation's letters, invoices or website."),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    organisation_name = forms.CharField(
        label=_("The organisation's name"),
        max_length=200,
        required=False,
        help_text=_("As it is registered with the CVR number, for example Revisorhuset A/S."),
    )

    second_attorney_national_id = forms.CharField(
        label=_("The second attorney's CPR number"),
        max_length=11,
        required=False,
        help_text=_("10 digits, with or without a hyphen."),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    second_attorney_name = forms.CharField(
        label=_("The second attorney's full name"),
        max_length=200,
        required=False,
        help_text=_("As it is registered with the CPR number."),
    )
    mode = forms.ChoiceField(
        label=_("How should the two attorneys act?"),
        choices=[
            (
                JointMode.SEVERALLY,
                _("Each alone: either of them can do everything the power of attorney allows."),
            ),
            (
                JointMode.JOINTLY,
                _(
                    "Together on applications: an application one of them makes is sent only when "
                    "the other approves it, and either can stop it. Both can read your letters."
                ),
            ),
        ],
        initial=JointMode.SEVERALLY,
        required=False,
        widget=forms.RadioSelect,
    )

    field_order = [
        "attorney_kind",
        "attorney_national_id",
        "attorney_name",
        "second_attorney_national_id",
        "second_attorney_name",
        "mode",
        "cvr",
        "organisation_name",
        "rights",
        "all_rights_at",
        "valid_from",
        "valid_until",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required for the kind of attorney chosen (checked in clean_*), so not marked optional.
        for name in ("attorney_national_id", "attorney_name", "cvr", "organisation_name"):
            self.fields[name].required_for_choice = True

    def clean_attorney_kind(self) -> str:
        return self.cleaned_data["attorney_kind"] or AttorneyKind.PERSON

    @property
    def for_organisation(self) -> bool:
        kind = self.cleaned_data.get("attorney_kind") if hasattr(self, "cleaned_data") else None
        return kind == AttorneyKind.ORGANISATION

    def clean_attorney_national_id(self) -> str:
        # Checked here, next to the field, rather than only after the summary and the password.
        value = self.cleaned_data["attorney_national_id"].strip()
        if self.for_organisation:
            return ""
        if not value:
            raise ValidationError(_("Enter the attorney's CPR number."), code="required")
        return normalize_cpr(value)

    def clean_attorney_name(self) -> str:
        name = " ".join(self.cleaned_data["attorney_name"].split())
        if not name and not self.for_organisation:
            raise ValidationError(_("Enter the attorney's full name."), code="required")
        return "" if self.for_organisation else name

    def clean_second_attorney_national_id(self) -> str:
        value = self.cleaned_data["second_attorney_national_id"].strip()
        # An organisation is appointed alone; what was typed for a second person is not used.
        return normalize_cpr(value) if value and not self.for_organisation else ""

    def clean_cvr(self) -> str:
        value = self.cleaned_data["cvr"]
        if not self.for_organisation:
            return ""
        if not value.strip():
            raise ValidationError(_("Enter the organisation's CVR number."), code="required")
        return normalize_cvr(value)

    def clean_organisation_name(self) -> str:
        name = " ".join(self.cleaned_data["organisation_name"].split())
        if self.for_organisation and not name:
            raise ValidationError(_("Enter the organisation's name."), code="required")
        return name if self.for_organisation else ""

    def clean(self):
        cleaned = super().clean()
        if self.for_organisation:
            cleaned.update(second_attorney_national_id="", second_attorney_name="", mode="")
            return cleaned
        cpr, name = (
            cleaned.get("second_attorney_national_id"),
            cleaned.get("second_attorney_name", "").strip(),
        )
        cleaned["second_attorney_name"] = name
        if "second_attorney_national_id" in self.errors:
            return cleaned
        if cpr and not name:
            self.add_error(
                "second_attorney_name", _("Enter the second attorney's name, or leave both empty.")
            )
        elif name and not cpr:
            self.add_error(
                "second_attorney_national_id",
                _("Enter the second attorney's CPR number, or leave both empty."),
            )
        elif cpr and cpr == cleaned.get("attorney_national_id"):
            self.add_error("second_attorney_national_id", _("The second attorney must be another person."))
        elif cpr and cleaned.get("mode") not in JointMode.values:
            self.add_error("mode", _("Choose how the attorneys should act."))
        return cleaned

    @property
    def has_second_attorney(self) -> bool:
        return bool(self.cleaned_data.get("second_attorney_national_id"))


class ChangeForm(RightsTreeMixin, PeriodMixin):
    pass


class RenewForm(forms.Form):
    valid_until = forms.DateField(label=_("New end date (valid until and including)"), widget=DateInput())

    def clean_valid_until(self):
        day = self.cleaned_data["valid_until"]
        if day < timezone.localdate():
            raise ValidationError(_("The end must be in the future."))
        return day


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea({"rows": 3})
    )


class RequestForm(RightsTreeMixin):
    grantor_national_id = forms.CharField(
        label=_("CPR number of the person you want to help"),
        max_length=11,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    grantor_name = forms.CharField(label=_("Their full name"), max_length=200)
    valid_until = forms.DateField(label=_("Until and including"), widget=DateInput())
    message = forms.CharField(
        label=_("Message to them"), required=False, max_length=2000, widget=forms.Textarea({"rows": 4})
    )

    field_order = ["grantor_national_id", "grantor_name", "rights", "all_rights_at", "valid_until", "message"]

    def clean_valid_until(self):
        day = self.cleaned_data["valid_until"]
        if day < timezone.localdate():
            raise ValidationError(_("The end must be in the future."))
        return day


class AnswerRequestForm(forms.Form):
    rights = RightsChoiceField(required=False, label=_("Rights you give"))
    valid_until = forms.DateField(label=_("Valid until and including"), widget=DateInput())

    def __init__(self, *args, attorney_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rights"].queryset = attorney_request.rights.select_related(
            "service__authority"
        ).order_by("code")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("rights") and "rights" not in self.errors:
            self.add_error("rights", _("Choose at least one right."))
        return cleaned


class ActForForm(forms.Form):
    grantor = forms.IntegerField(widget=forms.HiddenInput)


class AccessCodeForm(forms.Form):
    label = forms.CharField(
        label=_("Who is it for?"),
        required=False,
        max_length=100,
        help_text=_("For example the name of the bank or care home. Only you and the other party see it."),
    )


class ProofForm(forms.Form):
    code = forms.CharField(
        label=_("Access code"),
        max_length=20,
        help_text=_("12 letters and digits, for example ABCD-EFGH-JKMN."),
        widget=forms.TextInput(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    surname = forms.CharField(label=_("Surname of the person who gave the power of attorney"), max_length=100)
    organisation = forms.CharField(label=_("Your organisation"), max_length=200)


class EmergencyRequestForm(forms.Form):
    citizen_national_id = forms.CharField(
        label=_("CPR number of the person who cannot act"),
        max_length=11,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    citizen_name = forms.CharField(label=_("Their full name"), max_length=200)
    authorities = forms.ModelMultipleChoiceField(
        label=_("Letters from"),
        queryset=Authority.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You can only read letters. Nothing you do can have legal effect."),
    )
    days = forms.IntegerField(
        label=_("For how many days"),
        min_value=1,
        max_value=EMERGENCY_MAX_DAYS,
        initial=14,
        help_text=_("At most 30 days. It cannot be renewed."),
        widget=forms.NumberInput({"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why can the person not act themselves?"),
        max_length=2000,
        widget=forms.Textarea({"rows": 4}),
        help_text=_(
            "For example: admitted to hospital after a stroke. The caseworkers and the person will see it."
        ),
    )
    repeat_reason = forms.CharField(
        label=_("If you have had one for this person in the last 90 days: why is another needed?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only authorities that send letters through the portal have a right to read them.
        self.fields["authorities"].queryset = (
            Authority.objects.filter(services__rights__code__endswith=f".{EMERGENCY_RIGHT}")
            .distinct()
            .order_by("name_da")
        )

    def clean_citizen_national_id(self) -> str:
        return normalize_cpr(self.cleaned_data["citizen_national_id"])


class EmergencyAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("replace", "replace"), ("keep", "keep")])
