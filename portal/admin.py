from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.admin_scoping import AuthorityScopedAdminMixin, ReadOnlyScopedAdmin
from authorities.history.selectors import audit_events_about_cpr

from .cpr import format_cpr
from .errors import NotAllowed
from .forms import add_service_errors
from .identity import verify_identity_in_person
from .models import AuditEvent, IdentityDocument, User


class InPersonVerificationForm(forms.Form):
    """What a citizen service desk types from the identity papers in front of it."""

    email = forms.EmailField(
        label=_("The person's email address in the portal"),
        help_text=_("Ask the person which address they log in with."),
    )
    national_id = forms.CharField(
        label=_("CPR number on the identity papers"),
        max_length=11,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Full name on the identity papers"), max_length=200)
    document = forms.ChoiceField(label=_("Identity document seen"), choices=IdentityDocument.choices)
    seen_in_person = forms.BooleanField(
        label=_("The person is here, and the photo on the document is theirs."),
    )


@admin.register(User)
class UserAdmin(AuthorityScopedAdminMixin, DjangoUserAdmin):
    """Accounts belong to no authority, so only the service desk sees them (a caseworker finds a
    citizen through their file at the authority)."""

    ordering = ["email"]
    list_display = ["email", "name", "national_id", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    cpr_search_fields = ["national_id"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    date_hierarchy = "date_joined"
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["name", "national_id", "preferred_language"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "national_id", "password1", "password2"]})
    ]
    readonly_fields = [
        "identity_verified_at",
        "identity_verification",
        "identity_verified_by",
        "identity_document",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets[:2], (_("Identity"), {"fields": self.readonly_fields}), *fieldsets[2:]]

    def get_urls(self):
        return [
            path(
                "verify-identity/",
                self.admin_site.admin_view(self.verify_identity_view),
                name="portal_user_verify_identity",
            ),
            *super().get_urls(),
        ]

    def verify_identity_view(self, request: HttpRequest):
        """A citizen service desk confirms a person's CPR number from identity papers seen in person.

        Open to caseworkers with the permission without showing them the list of accounts: they find
        the one account by the address the person gives them.
        """
        if not request.user.has_perm("portal.verify_identity"):
            raise PermissionDenied
        form = InPersonVerificationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            person = User.objects.filter(email__iexact=data["email"], is_active=True).first()
            if person is None:
                form.add_error("email", gettext("No account uses this email address."))
            else:
                try:
                    verify_identity_in_person(
                        acting_user=request.user,
                        user=person,
                        national_id=data["national_id"],
                        name=data["name"],
                        document=data["document"],
                    )
                except (ValidationError, NotAllowed) as error:
                    add_service_errors(form, error)
                else:
                    messages.success(
                        request,
                        gettext("%(name)s's identity is verified. They can now use the portal in full.")
                        % {"name": data["name"]},
                    )
                    return redirect("admin:portal_user_verify_identity")
        return TemplateResponse(
            request,
            "admin/portal/user/verify_identity.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Verify a person's identity"),
                "form": form,
            },
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    """The audit trail, read-only. A caseworker sees the events at their authority and finds a
    person's by CPR number, whether that person acted, was acted for, or is the citizen concerned."""

    list_display = [
        "created_at",
        "action",
        "actor",
        "principal",
        "principal_cpr",
        "authority",
        "target_type",
        "target_id",
    ]
    list_filter = ["action", ("authority", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "created_at"
    search_fields = ["target_id", "action"]
    cpr_search_fields = ["actor__national_id", "principal__national_id"]
    list_select_related = ["actor", "principal", "authority"]
    fields = [
        "created_at",
        "action",
        "actor",
        "principal",
        "principal_cpr",
        "authority",
        "target_type",
        "target_id",
        "details",
        "request_id",
        "hash",
        "previous_hash",
    ]
    readonly_fields = fields

    @admin.display(description=_("CPR number"))
    def principal_cpr(self, obj: AuditEvent) -> str:
        return format_cpr(obj.principal.national_id or "") if obj.principal_id else ""

    def search_by_cpr(self, request, queryset, cpr):
        # Beyond actor and principal, an authority's decisions name the citizen only in the details.
        return audit_events_about_cpr(events=queryset, cpr=cpr)
