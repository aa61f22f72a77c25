from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from authorities.admin_scoping import AuthorityScopedAdminMixin, ReadOnlyScopedAdmin
from authorities.selectors import audit_events_about_cpr

from .cpr import format_cpr
from .models import AuditEvent, User


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
