"""The caseworkers' workspace for an authority's records, and the service desk's catalogue.

Every admin here is scoped by ``AuthorityScopedAdminMixin`` (see authorities/admin_scoping.py).
Records are read-only in the generic forms; changes go through the services of each floor.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from authorities.applications import services as applications_services
from authorities.applications.models import Application, ApplicationForm, ApplicationStatus
from authorities.applications.services import APPLICATION_TRANSITIONS
from authorities.catalogue import services as catalogue_services
from authorities.catalogue.admin_scoping import (
    AuthorityScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedReadOnlyInline,
    private_pdf_response,
)
from authorities.catalogue.models import Authority, AuthorityMembership, CitizenFile, Right, Service
from authorities.clients import services as clients_services
from authorities.clients.models import ApiClient
from authorities.consent.models import Consent, ConsentRequest, DataCategory
from authorities.datause.models import DataUse, RefusalReason, RefusedDataUse
from authorities.events.models import AuthorityEvent, WebhookDelivery
from authorities.post.models import Letter
from portal.cpr import format_cpr
from portal.errors import NotAllowed
from portal.forms import add_service_errors

# --- The catalogue: the service desk edits it, caseworkers look up their own authority's part ---


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


class RightInline(admin.TabularInline):
    model = Right
    extra = 0
    fields = ["code", "name_da", "name_en"]


@admin.register(Authority)
class AuthorityAdmin(AuthorityScopedAdmin):
    list_display = ["name_da", "name_en", "cvr", "slug"]
    search_fields = ["name_da", "name_en", "cvr", "slug"]
    prepopulated_fields = {"slug": ["name_da"]}
    inlines = [ServiceInline]


class ApplicationFormInline(admin.StackedInline):
    model = ApplicationForm
    fk_name = "service"
    extra = 0


@admin.register(Service)
class ServiceAdmin(AuthorityScopedAdmin):
    list_display = ["name_da", "authority", "slug"]
    list_filter = [("authority", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name_da", "name_en"]
    inlines = [RightInline, ApplicationFormInline]


@admin.register(Right)
class RightAdmin(AuthorityScopedAdmin):
    list_display = ["code", "name_da", "name_en", "service"]
    list_filter = [("service__authority", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name_da", "name_en"]
    list_select_related = ["service__authority"]


# --- Citizens' records at the authority ------------------------------------------------------


class CitizenColumnsMixin:
    """Name and CPR number of the citizen whose file a record is on."""

    citizen_path = "citizen_file__citizen"

    def _citizen(self, obj):
        for part in self.citizen_path.split("__"):
            obj = getattr(obj, part)
        return obj

    @admin.display(description=_("citizen"))
    def citizen_name(self, obj) -> str:
        return self._citizen(obj).name

    @admin.display(description=_("CPR number"))
    def citizen_cpr(self, obj) -> str:
        return format_cpr(self._citizen(obj).national_id or "")


class LetterInline(ScopedReadOnlyInline):
    model = Letter
    fields = ["subject", "sent_at", "attachment_name"]
    readonly_fields = fields


class ApplicationInline(ScopedReadOnlyInline):
    model = Application
    fields = ["service", "status", "submitted_at", "decided_at"]
    readonly_fields = fields


@admin.register(CitizenFile)
class CitizenFileAdmin(CitizenColumnsMixin, ReadOnlyScopedAdmin):
    """A citizen's file at the authority, with its letters and applications. Files are created by
    the services the first time something needs one, never by hand."""

    citizen_path = "citizen"
    list_display = ["citizen_name", "citizen_cpr", "authority", "created_at"]
    list_filter = [("authority", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["citizen", "authority"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    search_fields = ["citizen__name"]
    cpr_search_fields = ["citizen__national_id"]
    fields = ["citizen_name", "citizen_cpr", "authority", "created_at"]
    readonly_fields = fields
    inlines = [LetterInline, ApplicationInline]


@admin.register(Letter)
class LetterAdmin(CitizenColumnsMixin, ReadOnlyScopedAdmin):
    """Letters the authority has sent; sent by authorities.post_services.send_letter, never edited."""

    list_display = ["subject", "citizen_name", "citizen_cpr", "authority", "sent_at"]
    list_filter = [("citizen_file__authority", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["citizen_file__citizen", "citizen_file__authority"]
    date_hierarchy = "sent_at"
    search_fields = ["subject"]
    cpr_search_fields = ["citizen_file__citizen__national_id"]
    fields = ["citizen_name", "citizen_cpr", "authority", "subject", "body", "sent_at", "attachment_name"]
    readonly_fields = fields

    @admin.display(description=_("authority"))
    def authority(self, obj: Letter) -> Authority:
        return obj.citizen_file.authority


class DecisionForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    decision_text = forms.CharField(
        label=_("Decision"),
        required=False,
        max_length=5000,
        widget=forms.Textarea({"rows": 8, "cols": 80}),
        help_text=_(
            "Required when you approve or reject. The citizen receives it as a letter, and so does "
            "an attorney who reads their post."
        ),
    )

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = APPLICATION_TRANSITIONS.get(application.status, set())
        self.fields["status"].choices = [
            (value, label) for value, label in ApplicationStatus.choices if value in allowed
        ]


@admin.register(Application)
class ApplicationAdmin(CitizenColumnsMixin, ReadOnlyScopedAdmin):
    """Applications to the authority's services. Status and decision change only through
    authorities.applications_services.decide_application_as_caseworker, which also writes to the citizen."""

    list_display = ["service", "citizen_name", "citizen_cpr", "status", "submitted_at", "decided_at"]
    list_filter = ["status", ("service", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["service__authority", "citizen_file__citizen"]
    date_hierarchy = "submitted_at"
    search_fields = ["description"]
    cpr_search_fields = [
        "citizen_file__citizen__national_id",
        "submitted_by__national_id",
        "on_behalf_of__national_id",
    ]
    fields = [
        "service",
        "citizen_name",
        "citizen_cpr",
        "submitted_by_name",
        "description",
        "amount",
        "date_value",
        "attachment_link",
        "status",
        "decision_text",
        "submitted_at",
        "decided_at",
    ]
    readonly_fields = fields
    actions = ["take_into_review"]

    @admin.display(description=_("submitted by"))
    def submitted_by_name(self, obj: Application) -> str:
        if obj.submitted_by_id == obj.on_behalf_of_id:
            return gettext("The citizen")
        return gettext("%(name)s, as attorney") % {"name": obj.submitted_by.name}

    @admin.display(description=_("attachment (PDF)"))
    def attachment_link(self, obj: Application) -> str:
        if not obj.attachment:
            return "–"
        url = reverse("admin:authorities_application_attachment", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    def has_decide_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.may_use(request)
            and request.user.has_perm("authorities.change_application")
            and self.in_scope(request, obj)
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="authorities_application_decide",
            ),
            path(
                "<path:object_id>/attachment/",
                self.admin_site.admin_view(self.attachment_view),
                name="authorities_application_attachment",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.scoped_object(request, object_id)
        extra_context = extra_context or {}
        if (
            application is not None
            and APPLICATION_TRANSITIONS.get(application.status)
            and self.has_decide_permission(request, application)
        ):
            extra_context["decide_url"] = reverse(
                "admin:authorities_application_decide", args=[application.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request: HttpRequest, object_id: str):
        application = self.scoped_object(request, object_id)
        if application is None:
            return self.does_not_exist(request, object_id)
        if not self.has_decide_permission(request, application):
            raise PermissionDenied
        form = DecisionForm(request.POST or None, application=application)
        if request.method == "POST" and form.is_valid():
            try:
                applications_services.decide_application_as_caseworker(
                    application=application,
                    acting_user=request.user,
                    status=form.cleaned_data["status"],
                    decision_text=form.cleaned_data["decision_text"],
                )
            except (ValidationError, NotAllowed) as error:
                add_service_errors(form, error)
            else:
                application.refresh_from_db()
                self.log_change(request, application, [{"changed": {"fields": ["status"]}}])
                messages.success(
                    request,
                    gettext("The application is now: %(status)s.")
                    % {"status": application.get_status_display()},
                )
                return redirect("admin:authorities_application_change", application.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Decide on the application"),
            "application": application,
            "form": form,
        }
        return TemplateResponse(request, "admin/authorities/application/decide.html", context)

    def attachment_view(self, request: HttpRequest, object_id: str):
        application = self.scoped_object(request, object_id)
        if application is None:
            return self.does_not_exist(request, object_id)
        if not self.has_view_permission(request, application):
            raise PermissionDenied
        return private_pdf_response(application.attachment, f"application-{application.pk}.pdf")

    @admin.action(description=_("Take the selected applications into review"), permissions=["decide"])
    def take_into_review(self, request: HttpRequest, queryset):
        moved = 0
        for application in queryset:
            try:
                applications_services.decide_application_as_caseworker(
                    application=application, acting_user=request.user, status=ApplicationStatus.IN_REVIEW
                )
            except (ValidationError, PermissionDenied) as error:
                messages.warning(
                    request, f"{application}: {' '.join(getattr(error, 'messages', [str(error)]))}"
                )
            else:
                moved += 1
        if moved:
            messages.success(
                request,
                ngettext(
                    "%(count)d application taken into review.",
                    "%(count)d applications taken into review.",
                    moved,
                )
                % {"count": moved},
            )


# --- Caseworkers: set up by the service desk --------------------------------------------------


@admin.register(AuthorityMembership)
class AuthorityMembershipAdmin(AuthorityScopedAdmin):
    """Who is a caseworker where. Saved through authorities.catalogue_services.appoint_caseworker, which also
    makes the person staff and puts them in the caseworkers' group. Service desk only."""

    list_display = ["user", "authority", "created_at"]
    list_filter = [("authority", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "authority"]
    ordering = ["authority__name_da", "user__name"]
    search_fields = ["user__email", "user__name"]
    autocomplete_fields = ["user"]
    date_hierarchy = "created_at"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # The service desk is not also a caseworker.
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        membership = catalogue_services.appoint_caseworker(
            user=obj.user, authority=obj.authority, acting_user=request.user
        )
        obj.pk = membership.pk

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Ending a caseworker's access is done by deactivating the account, which keeps the trail.
        return False


# --- Consent, API clients and events ---------------------------------------------------------


@admin.register(DataCategory)
class DataCategoryAdmin(AuthorityScopedAdmin):
    list_display = ["code", "name_da", "authority", "max_days"]
    list_filter = ["authority"]
    search_fields = ["code", "name_da", "name_en"]


@admin.register(ConsentRequest)
class ConsentRequestAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "authority", "category", "status", "citizen_cpr"]
    list_filter = ["status", "category"]
    date_hierarchy = "created_at"
    cpr_search_fields = ["citizen_national_id"]
    list_select_related = ["authority", "category"]

    @admin.display(description=_("CPR number"))
    def citizen_cpr(self, obj: ConsentRequest) -> str:
        return format_cpr(obj.citizen_national_id)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyScopedAdmin):
    list_display = ["valid_from", "authority", "category", "citizen", "given_by", "status", "valid_until"]
    list_filter = ["status", "category"]
    date_hierarchy = "valid_from"
    cpr_search_fields = ["citizen__national_id"]
    list_select_related = ["authority", "category", "citizen", "given_by"]


@admin.register(ApiClient)
class ApiClientAdmin(AuthorityScopedAdmin):
    """The service desk sees every authority's clients and can revoke a token; it stops at the next call."""

    list_display = [
        "name",
        "authority",
        "token_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
        "webhook_url",
        "refused_reports",
    ]
    list_filter = ["authority", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["authority", "token_prefix", "created_at", "last_used_at", "revoked_at", "webhook_url"]
    fields = ["name", *readonly_fields]
    actions = ["revoke_tokens"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(refused_count=Count("refused_data_uses"))

    @admin.display(description=_("refused data-use reports"), ordering="refused_count")
    def refused_reports(self, obj: ApiClient) -> str:
        if not obj.refused_count:
            return "0"
        url = reverse("admin:authorities_refuseddatause_changelist") + f"?client__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.refused_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are made with `manage.py create_api_token`, which shows the token once.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        for client in queryset:
            clients_services.revoke_api_client(client=client, acting_user=request.user)
        self.message_user(request, gettext("The tokens no longer work."), messages.SUCCESS)


class WebhookDeliveryInline(ScopedReadOnlyInline):
    model = WebhookDelivery
    fields = ["client", "url", "status", "attempts", "last_error", "delivered_at"]
    readonly_fields = fields


@admin.register(AuthorityEvent)
class AuthorityEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "authority", "type", "event_id"]
    list_filter = ["type", "authority"]
    date_hierarchy = "created_at"
    inlines = [WebhookDeliveryInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyScopedAdmin):
    """The delivery log: every event sent to every webhook, with its attempts and last error."""

    list_display = ["created_at", "client", "event", "status", "attempts", "delivered_at", "last_error"]
    list_filter = ["status", "client__authority"]
    date_hierarchy = "created_at"
    list_select_related = ["client__authority", "event__authority"]


@admin.register(DataUse)
class DataUseAdmin(ReadOnlyScopedAdmin):
    """Uses of citizens' data the authority's systems reported, with the consent or law behind each."""

    list_display = [
        "used_at",
        "authority",
        "category",
        "basis",
        "consent",
        "external_id",
        "client",
        "citizen_cpr",
    ]
    list_filter = ["basis", "category", "client"]
    date_hierarchy = "used_at"
    search_fields = ["external_id", "case_reference"]
    cpr_search_fields = ["citizen_national_id"]
    list_select_related = ["authority", "category", "consent", "client__authority"]

    @admin.display(description=_("CPR number"))
    def citizen_cpr(self, obj: DataUse) -> str:
        return format_cpr(obj.citizen_national_id)


@admin.register(RefusedDataUse)
class RefusedDataUseAdmin(ReadOnlyScopedAdmin):
    """Reports refused because no consent allowed the use at that moment, by API client and reason."""

    list_display = ["refused_at", "client", "external_id", "category", "used_at", "reason", "consent"]
    list_filter = ["reason", "client", "category"]
    date_hierarchy = "refused_at"
    search_fields = ["external_id"]
    list_select_related = ["client__authority", "category", "consent"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # How many reports each of the authority's systems had refused, withdrawals and expiries apart:
        # a system that keeps using data after a withdrawal stands out at once.
        per_client = (
            self.get_queryset(request)
            .order_by("client__name")
            .values("client", "client__name")
            .annotate(
                total=Count("id"),
                withdrawn=Count("id", filter=Q(reason=RefusalReason.CONSENT_WITHDRAWN)),
                expired=Count("id", filter=Q(reason=RefusalReason.CONSENT_EXPIRED)),
            )
        )
        return super().changelist_view(request, {**(extra_context or {}), "refused_per_client": per_client})
