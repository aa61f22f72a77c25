"""Powers of attorney in the caseworkers' workspace.

A caseworker sees the powers of attorney that include at least one right of their authority, and of
those only their authority's rights. They register a power of attorney signed on paper and revoke
one with a reason, each in its own view that calls attorney.services; the generic change form never
changes a power of attorney.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.admin_scoping import (
    AuthorityScopedAdmin,
    ReadOnlyScopedAdmin,
    private_pdf_response,
)
from authorities.catalogue.models import Right
from authorities.catalogue.selectors import in_caseworker_scope
from portal.admin_registration import RegisteredThroughAService
from portal.cpr import format_cpr
from portal.errors import NotAllowed
from portal.forms import add_service_errors

from . import services
from .admin_forms import CaseworkerRevokeForm, EmergencyRefusalForm, PaperRegistrationForm
from .models import AttorneyRequest, EmergencyRequest, EmergencyStatus, PowerOfAttorney


@admin.register(PowerOfAttorney)
class PowerOfAttorneyAdmin(RegisteredThroughAService, AuthorityScopedAdmin):
    # The only way to add one in the admin is to register a signed paper form.
    register_path, register_name = "register-paper/", "register_paper"

    list_display = [
        "grantor_name",
        "grantor_cpr",
        "attorney_name",
        "attorney_cpr",
        "visible_rights_list",
        "status",
        "basis",
        "valid_from",
        "valid_until",
    ]
    # The authorities filter offers a caseworker only their own (see ScopedRelatedFieldListFilter),
    # never the other authorities that share a mandate with theirs.
    list_filter = ["status", "basis", "rights__service__authority"]
    list_select_related = ["grantor", "attorney"]
    date_hierarchy = "created_at"
    search_fields = ["grantor__name", "attorney__name", "invitee_name"]
    cpr_search_fields = ["grantor__national_id", "attorney__national_id", "invitee_national_id"]
    fields = [
        "grantor_name",
        "grantor_cpr",
        "attorney_name",
        "attorney_cpr",
        "visible_rights_list",
        "valid_from",
        "valid_until",
        "status",
        "basis",
        "paper_form_link",
        "registered_by",
        "created_by",
        "created_at",
        "activated_at",
        "ended_at",
        "ended_by",
        "end_reason",
    ]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest):
        # A caseworker sees only their authority's rights of a mandate, through the same scope.
        visible_rights = in_caseworker_scope(
            user=request.user, records=Right.objects.select_related("service__authority").order_by("code")
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("rights", queryset=visible_rights, to_attr="visible_rights"))
        )

    # --- columns ----------------------------------------------------------------------------

    @admin.display(description=_("grantor"), ordering="grantor__name")
    def grantor_name(self, obj: PowerOfAttorney) -> str:
        return obj.grantor.name

    @admin.display(description=_("grantor's CPR number"))
    def grantor_cpr(self, obj: PowerOfAttorney) -> str:
        return format_cpr(obj.grantor.national_id or "")

    @admin.display(description=_("attorney"))
    def attorney_name(self, obj: PowerOfAttorney) -> str:
        return obj.attorney_name

    @admin.display(description=_("attorney's CPR number"))
    def attorney_cpr(self, obj: PowerOfAttorney) -> str:
        return obj.attorney_national_id_display

    @admin.display(description=_("rights"))
    def visible_rights_list(self, obj: PowerOfAttorney) -> str:
        return format_html_join(", ", "{}", ((right.name,) for right in obj.visible_rights))

    @admin.display(description=_("signed paper form (PDF)"))
    def paper_form_link(self, obj: PowerOfAttorney) -> str:
        if not obj.paper_document:
            return "–"
        url = reverse("admin:attorney_powerofattorney_paper_form", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    # --- permissions --------------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.may_use(request)
            and request.user.has_perm("attorney.change_powerofattorney")
            and self.in_scope(request, obj)
        )

    # --- views -------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="attorney_powerofattorney_revoke",
            ),
            path(
                "<path:object_id>/paper-form/",
                self.admin_site.admin_view(self.paper_form_view),
                name="attorney_powerofattorney_paper_form",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        mandate = self.scoped_object(request, object_id)
        extra_context = extra_context or {}
        if mandate is not None and not mandate.is_ended and self.has_revoke_permission(request, mandate):
            extra_context["revoke_url"] = reverse("admin:attorney_powerofattorney_revoke", args=[mandate.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _render(self, request: HttpRequest, template: str, **context):
        return TemplateResponse(
            request,
            f"admin/attorney/powerofattorney/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def register_view(self, request: HttpRequest):
        rights = in_caseworker_scope(
            user=request.user, records=Right.objects.select_related("service__authority").order_by("code")
        )
        form = PaperRegistrationForm(request.POST or None, request.FILES or None, rights=rights)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                mandate = services.register_paper_power_of_attorney(
                    acting_user=request.user,
                    grantor_national_id=data["grantor_national_id"],
                    grantor_name=data["grantor_name"],
                    attorney_national_id=data["attorney_national_id"],
                    attorney_name=data["attorney_name"],
                    rights=list(data["rights"]),
                    valid_from=data["valid_from_at"],
                    valid_until=data["valid_until_at"],
                    document=data["document"],
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                self.log_addition(request, mandate, [{"added": {}}])
                if mandate.attorney_id:
                    message = gettext(
                        "The power of attorney is registered and in force. Both have been told."
                    )
                else:
                    message = gettext(
                        "The power of attorney is registered. %(name)s has no verified account with this "
                        "CPR number and name yet; it comes into force when they confirm who they are with "
                        "MitID (or at a citizen service desk) and accept it."
                    ) % {"name": mandate.attorney_name}
                messages.success(request, message)
                return redirect("admin:attorney_powerofattorney_change", mandate.pk)
        return self._render(
            request,
            "register_paper.html",
            title=gettext("Register a power of attorney signed on paper"),
            form=form,
        )

    def revoke_view(self, request: HttpRequest, object_id: str):
        mandate = self.scoped_object(request, object_id)
        if mandate is None:
            return self.does_not_exist(request, object_id)
        if not self.has_revoke_permission(request, mandate):
            raise PermissionDenied
        form = CaseworkerRevokeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.revoke_by_caseworker(
                    power_of_attorney=mandate, acting_user=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                self.log_change(request, mandate, [{"changed": {"fields": ["status"]}}])
                messages.success(request, gettext("The power of attorney is revoked. Both have been told."))
                return redirect("admin:attorney_powerofattorney_change", mandate.pk)
        return self._render(
            request,
            "revoke.html",
            title=gettext("Revoke the power of attorney"),
            mandate=mandate,
            form=form,
        )

    def paper_form_view(self, request: HttpRequest, object_id: str):
        mandate = self.scoped_object(request, object_id)
        if mandate is None:
            return self.does_not_exist(request, object_id)
        if not self.has_view_permission(request, mandate):
            raise PermissionDenied
        return private_pdf_response(mandate.paper_document, f"power-of-attorney-{mandate.pk}.pdf")

    @admin.action(description=_("Revoke the selected power of attorney…"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset):
        # Each revocation needs its own reason, so it is done one at a time in the revoke view.
        if queryset.count() != 1:
            messages.warning(
                request, gettext("Choose one power of attorney; each revocation needs its own reason.")
            )
            return None
        return redirect("admin:attorney_powerofattorney_revoke", queryset.get().pk)


@admin.register(AttorneyRequest)
class AttorneyRequestAdmin(ReadOnlyScopedAdmin):
    """Requests between citizens belong to no authority: service desk only, read-only."""

    list_display = ["requester", "grantor", "status", "created_at"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    search_fields = ["requester__name", "grantor__name"]
    cpr_search_fields = ["requester__national_id", "grantor__national_id"]


@admin.register(EmergencyRequest)
class EmergencyRequestAdmin(admin.ModelAdmin):
    """Emergency powers of attorney at the citizen service desk: caseworkers who may approve them
    see every request (they belong to no authority) and approve or refuse one in its own view; two
    different caseworkers must approve (attorney.services.approve_emergency_request)."""

    list_display = ["created_at", "relative", "citizen", "days", "status", "first_approved_by"]
    list_filter = ["status"]
    list_select_related = ["relative", "citizen", "first_approved_by"]
    date_hierarchy = "created_at"
    search_fields = ["relative__name", "citizen__name"]
    fields = [
        "relative",
        "citizen_cpr",
        "citizen",
        "reason",
        "repeat_reason",
        "rights_list",
        "days",
        "status",
        "created_at",
        "first_approved_by",
        "first_approved_at",
        "second_approved_by",
        "second_approved_at",
        "refused_by",
        "refusal_reason",
        "power_of_attorney",
    ]
    readonly_fields = fields

    def _may_decide(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm("attorney.approve_emergencyrequest")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_decide(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_decide(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("CPR number"))
    def citizen_cpr(self, obj: EmergencyRequest) -> str:
        return format_cpr(obj.citizen.national_id)

    @admin.display(description=_("rights asked for"))
    def rights_list(self, obj: EmergencyRequest) -> str:
        return format_html_join(", ", "{}", ((right.name,) for right in obj.rights.all()))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/godkend/", view(self.approve_view), name="attorney_emergencyrequest_approve"
            ),
            path("<path:object_id>/afvis/", view(self.refuse_view), name="attorney_emergencyrequest_refuse"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        emergency = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if emergency is not None and emergency.status in (
            EmergencyStatus.AWAITING_FIRST,
            EmergencyStatus.AWAITING_SECOND,
        ):
            extra_context["approve_url"] = reverse(
                "admin:attorney_emergencyrequest_approve", args=[emergency.pk]
            )
            extra_context["refuse_url"] = reverse(
                "admin:attorney_emergencyrequest_refuse", args=[emergency.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def approve_view(self, request: HttpRequest, object_id: str):
        emergency = self.get_object(request, object_id)
        if emergency is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self._may_decide(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                emergency = services.approve_emergency_request(
                    emergency_request=emergency, acting_user=request.user
                )
            except (ValidationError, NotAllowed) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                if emergency.status == EmergencyStatus.APPROVED:
                    messages.success(
                        request,
                        gettext("Approved by two caseworkers: the emergency power of attorney is in force."),
                    )
                else:
                    messages.success(
                        request,
                        gettext("Your approval is recorded. A second caseworker must approve it too."),
                    )
            return redirect("admin:attorney_emergencyrequest_change", emergency.pk)
        return self._render(
            request,
            "approve.html",
            title=gettext("Approve the emergency power of attorney"),
            emergency=emergency,
        )

    def refuse_view(self, request: HttpRequest, object_id: str):
        emergency = self.get_object(request, object_id)
        if emergency is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self._may_decide(request):
            raise PermissionDenied
        form = EmergencyRefusalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.refuse_emergency_request(
                    emergency_request=emergency, acting_user=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                messages.success(request, gettext("The request is refused. The relative has been told."))
                return redirect("admin:attorney_emergencyrequest_change", emergency.pk)
        return self._render(
            request,
            "refuse.html",
            title=gettext("Refuse the emergency power of attorney"),
            emergency=emergency,
            form=form,
        )

    def _render(self, request: HttpRequest, template: str, **context):
        return TemplateResponse(
            request,
            f"admin/attorney/emergencyrequest/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )
