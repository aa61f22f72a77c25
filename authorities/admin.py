from django.contrib import admin

from .models import ApplicationForm, Authority, Right, Service


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


class RightInline(admin.TabularInline):
    model = Right
    extra = 0
    fields = ["code", "name_da", "name_en"]


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name_da", "name_en", "cvr", "slug"]
    search_fields = ["name_da", "name_en", "cvr", "slug"]
    prepopulated_fields = {"slug": ["name_da"]}
    inlines = [ServiceInline]


class ApplicationFormInline(admin.StackedInline):
    model = ApplicationForm
    fk_name = "service"
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name_da", "authority", "slug"]
    list_filter = ["authority"]
    search_fields = ["name_da", "name_en"]
    inlines = [RightInline, ApplicationFormInline]


@admin.register(Right)
class RightAdmin(admin.ModelAdmin):
    list_display = ["code", "name_da", "name_en", "service"]
    list_filter = ["service__authority"]
    search_fields = ["code", "name_da", "name_en"]
