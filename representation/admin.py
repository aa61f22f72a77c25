"""Guardianships in the family court authority's workspace.

Its caseworkers see the guardianships (never parental custody, which only the register changes),
register one from a decision and end one with a reason, each in its own view that calls
representation.services. The scope is one rule (``models._family_court_scope``): caseworkers at other
authorities see nothing here.
"""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.admin_scoping import AuthorityScopedAdmin, ReadOnlyScopedAdmin
from portal.admin_registration import RegisteredThroughAService
from portal.cpr import format_cpr
from portal.errors import NotAllowed
from portal.forms import add_service_errors

from . import services
from .admin_forms import EndGuardianshipForm, GuardianshipForm
from .models import COPENHAGEN, RegisterImport, Representation, Source


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=COPENHAGEN)


@admin.register(Representation)
class RepresentationAdmin(RegisteredThroughAService, AuthorityScopedAdmin):
    list_display = [
        "kind",
        "represented_cpr",
        "representative_cpr",
        "scope",
        "decision_reference",
        "valid_from",
        "valid_until",
        "ended_at",
        "source",
    ]
    list_filter = ["kind", "scope", "source"]
    search_fields = ["decision_reference"]
    cpr_search_fields = ["represented_national_id", "representative_national_id"]
    date_hierarchy = "valid_from"
    fields = [
        "kind",
        "represented_cpr",
        "representative_cpr",
        "scope",
        "decision_reference",
        "valid_from",
        "valid_until",
        "source",
        "register_sequence",
        "registered_by",
        "created_at",
        "ended_at",
        "ended_by",
        "end_reason",
    ]
    readonly_fields = fields

    @admin.display(description=_("child or ward"))
    def represented_cpr(self, obj: Representation) -> str:
        return format_cpr(obj.represented_national_id)

    @admin.display(description=_("custodian or guardian"))
    def representative_cpr(self, obj: Representation) -> str:
        return format_cpr(obj.representative_national_id)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and services.may_register_guardianships(request.user)

    def has_end_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            super().has_change_permission(request, obj)
            and services.may_register_guardianships(request.user)
            and (obj is None or (obj.source == Source.CASEWORKER and obj.ended_at is None))
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Looked at, never edited: registering and ending go through the services.
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/end/",
                self.admin_site.admin_view(self.end_view),
                name="representation_representation_end",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        relation = self.scoped_object(request, object_id)
        extra_context = extra_context or {}
        if relation is not None and self.has_end_permission(request, relation):
            extra_context["end_url"] = reverse("admin:representation_representation_end", args=[relation.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _render(self, request: HttpRequest, template: str, **context):
        return TemplateResponse(
            request,
            f"admin/representation/representation/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def register_view(self, request: HttpRequest):
        form = GuardianshipForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            until = data["valid_until"]
            try:
                relation = services.register_guardianship(
                    acting_user=request.user,
                    ward_national_id=data["ward_national_id"],
                    guardian_national_id=data["guardian_national_id"],
                    scope=data["scope"],
                    decision_reference=data["decision_reference"],
                    valid_from=_start_of(data["valid_from"]),
                    valid_until=_start_of(until + datetime.timedelta(days=1)) if until else None,
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                self.log_addition(request, relation, [{"added": {}}])
                messages.success(request, gettext("The guardianship is registered."))
                return redirect("admin:representation_representation_change", relation.pk)
        return self._render(request, "register.html", title=gettext("Register a guardianship"), form=form)

    def end_view(self, request: HttpRequest, object_id: str):
        relation = self.scoped_object(request, object_id)
        if relation is None:
            return self.does_not_exist(request, object_id)
        if not self.has_end_permission(request, relation):
            raise PermissionDenied
        form = EndGuardianshipForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.end_guardianship(
                    acting_user=request.user, representation=relation, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                self.log_change(request, relation, [{"changed": {"fields": ["ended_at"]}}])
                messages.success(request, gettext("The guardianship has ended."))
                return redirect("admin:representation_representation_change", relation.pk)
        return self._render(
            request, "end.html", title=gettext("End the guardianship"), relation=relation, form=form
        )


@admin.register(RegisterImport)
class RegisterImportAdmin(ReadOnlyScopedAdmin):
    """Runs of the register import: service desk only."""

    list_display = ["file_name", "started_at", "added", "changed", "ended", "unchanged", "rejected"]
    readonly_fields = [
        "file_name",
        "file_sha256",
        "started_at",
        "added",
        "changed",
        "ended",
        "unchanged",
        "rejected",
        "rejections",
    ]
