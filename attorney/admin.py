from django.contrib import admin

from .models import AttorneyRequest, PowerOfAttorney


@admin.register(PowerOfAttorney)
class PowerOfAttorneyAdmin(admin.ModelAdmin):
    """Read-only here: every change goes through attorney.services."""

    list_display = ["grantor", "attorney_name", "status", "valid_from", "valid_until", "basis"]
    list_filter = ["status", "basis"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in PowerOfAttorney._meta.fields] + ["rights"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AttorneyRequest)
class AttorneyRequestAdmin(admin.ModelAdmin):
    list_display = ["requester", "grantor", "status", "created_at"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
