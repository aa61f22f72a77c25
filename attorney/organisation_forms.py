"""Forms of an organisation's pages. They check what a person typed; the rules live in
``organisations.services`` and ``attorney.services``, whose refusals the views show on these forms."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership, Role

ALL_MANDATES = "all"


def _mandate_label(mandate) -> str:
    return gettext("The power of attorney from %(name)s, until and including %(date)s") % {
        "name": mandate.grantor.name,
        "date": formats.date_format(timezone.localtime(mandate.valid_until), "DATE_FORMAT"),
    }


class InviteForm(forms.Form):
    name = forms.CharField(
        label=_("The person's full name"),
        max_length=200,
        widget=forms.TextInput({"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("The person's email address"),
        help_text=_("The invitation is sent here. Whoever follows its link and logs in with MitID joins."),
        widget=forms.EmailInput({"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (Role.EMPLOYEE, _("Employee: acts for the clients an administrator gives them access to")),
            (Role.ADMINISTRATOR, _("Administrator: also manages members, access and powers of attorney")),
        ],
        initial=Role.EMPLOYEE,
        widget=forms.RadioSelect,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.RadioSelect)


class AccessForm(forms.Form):
    """Give a member access to one of the organisation's powers of attorney in force, or to all of
    them (now and later)."""

    membership = forms.ChoiceField(label=_("Member"))
    power_of_attorney = forms.ChoiceField(label=_("Access to"))

    def __init__(self, *args, members: list[Membership], mandates: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(member.pk): member for member in members if member.has_joined}
        self.mandates = {str(mandate.pk): mandate for mandate in mandates}
        self.fields["membership"].choices = [(key, member.user.name) for key, member in self.members.items()]
        self.fields["power_of_attorney"].choices = [
            (ALL_MANDATES, _("All the organisation's powers of attorney, also those accepted later")),
            *((key, _mandate_label(mandate)) for key, mandate in self.mandates.items()),
        ]

    @property
    def chosen_member(self) -> Membership:
        return self.members[self.cleaned_data["membership"]]

    @property
    def chosen_mandate(self):
        """The power of attorney chosen, or None for all of them."""
        return self.mandates.get(self.cleaned_data["power_of_attorney"])
