"""Organisations in the caseworkers' workspace.

An organisation belongs to no authority: every caseworker with the permission (the "Caseworkers"
group, migration 0002) finds organisations by CVR number or name, sees their members read-only,
and registers one after checking it in the CVR register, in its own view that calls
``organisations.services.register_organisation``. Members, roles and access are the
organisation's own business, done by its administrators on its pages; nothing here changes them.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.admin_registration import RegisteredThroughAService
from portal.errors import NotAllowed
from portal.forms import CprNumberField, add_service_errors

from . import services
from .cvr import normalize_cvr
from .models import Membership, Organisation


class OrganisationRegistrationForm(forms.Form):
    """What a caseworker types from the CVR register and from the person who will administer the
    organisation in the portal. The service checks it all again."""

    cvr = forms.CharField(
        label=_("CVR number"),
        max_length=20,
        help_text=_("8 digits, as in the CVR register."),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name as in the CVR register"), max_length=200)
    administrator_national_id = CprNumberField(
        label=_("The first administrator's CPR number"),
        help_text=_(
            "Only the person with this CPR number can take the invitation, after logging in with MitID."
        ),
    )
    administrator_name = forms.CharField(label=_("The first administrator's full name"), max_length=200)
    administrator_email = forms.EmailField(
        label=_("The first administrator's email address"),
        help_text=_("The invitation is sent here."),
    )
    checked_in_register = forms.BooleanField(
        label=_(
            "I have checked the CVR number and the name in the CVR register, and that this person may act for the company."
        ),
    )

    def clean_cvr(self) -> str:
        return normalize_cvr(self.cleaned_data["cvr"])


class MembershipInline(admin.TabularInline):
    """Who is, was or is invited to be a member: looked at, never changed here."""

    model = Membership
    fields = ["invited_name", "user", "role", "invited_email", "invited_at", "joined_at", "left_at"]
    readonly_fields = fields
    ordering = ["left_at", "role", "invited_name"]
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(RegisteredThroughAService, admin.ModelAdmin):
    # The only way to add one is to register it with its first administrator.
    list_display = ["name", "cvr_number", "registered_at", "registered_by"]
    list_select_related = ["registered_by"]
    search_fields = ["name", "cvr"]
    date_hierarchy = "registered_at"
    fields = ["name", "cvr_number", "registered_by", "registered_at"]
    readonly_fields = fields
    inlines = [MembershipInline]

    @admin.display(description=_("CVR number"), ordering="cvr")
    def cvr_number(self, obj: Organisation) -> str:
        return obj.cvr_display

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        # A CVR number is found however it is typed (with spaces, with DK in front).
        try:
            cvr = normalize_cvr(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(cvr=cvr), False

    # --- permissions: registered through the service, then only looked at ----------------------

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # --- views ---------------------------------------------------------------------------------

    def register_view(self, request: HttpRequest):
        form = OrganisationRegistrationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                organisation, _code = services.register_organisation(
                    acting_user=request.user,
                    cvr=data["cvr"],
                    name=data["name"],
                    administrator_national_id=data["administrator_national_id"],
                    administrator_name=data["administrator_name"],
                    administrator_email=data["administrator_email"],
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                self.log_addition(request, organisation, [{"added": {}}])
                messages.success(
                    request,
                    gettext(
                        "%(name)s is registered. An invitation has been sent to %(email)s; only "
                        "%(person)s can take it, after logging in with MitID."
                    )
                    % {
                        "name": organisation.name,
                        "email": data["administrator_email"],
                        "person": data["administrator_name"],
                    },
                )
                return redirect("admin:organisations_organisation_change", organisation.pk)
        return TemplateResponse(
            request,
            "admin/organisations/organisation/register.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Register an organisation"),
                "form": form,
            },
        )
