"""Caseworkers in the Django admin see and change only their own authority's records.

One mechanism for every admin class: ``AuthorityScopedAdminMixin`` reads every queryset through
``authorities.catalogue.selectors.in_caseworker_scope``, and checks every object against it too. Lists,
change views by URL, history, search, list filters (which read ``get_queryset``), autocomplete
(which reads the remote admin's ``get_queryset``), actions (which run on the changelist's
queryset) and the custom views below (which load their object with ``get_object``) are therefore
all scoped by the same rule, and a record outside it looks exactly like one that does not exist.

What a caseworker may *do* comes from Django model permissions (the "Caseworkers" group);
*where* they may do it comes from their ``AuthorityMembership``. Superusers, the national service
desk, see everything. Models that are not scoped to an authority (users, memberships, requests
between citizens) are for the service desk only.

Caseworker access is a function of one membership row, not of per-object grants, so it is not
written as guardian object-permission rows: those would duplicate the membership on every citizen
file, need writing whenever a file is created, and could not express "mandates that include one of
our rights" or "audit events at our authority". Guardian stays the mechanism for what attorneys
may do on a citizen's file.
"""

from collections.abc import Sequence

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, lookup_spawns_duplicates, unquote
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import add_never_cache_headers

from portal.cpr import normalize_cpr

from .selectors import (
    authority_of_caseworker,
    caseworker_scoped_models,
    in_caseworker_scope,
    is_in_caseworker_scope,
)


def cpr_in(search_term: str) -> str | None:
    """The search term as a normalised CPR number (with or without hyphen), or None if it is not one."""
    try:
        return normalize_cpr(search_term)
    except ValidationError:
        return None


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter over a related record whose choices are scoped like the rows.

    Django's plain related filter offers every record of the related model (every authority's
    data categories, say); this one offers only those that occur in the rows the user may see.
    Where a row has several (a mandate's rights at several authorities), only those inside the
    user's own scope are offered, because the rows show only those.
    """

    def field_choices(self, field, request, model_admin):
        occurring = field.related_model._default_manager.filter(
            pk__in=model_admin.get_queryset(request).values(f"{self.field_path}__pk")
        )
        if lookup_spawns_duplicates(model_admin.opts, self.field_path):
            occurring = in_caseworker_scope(user=request.user, records=occurring)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": occurring.values("pk")}, ordering=ordering
        )


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """A filter over plain values through a relation, offering only values of rows the user may see
    (Django reads such values from every row of the related model)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request)
            .distinct()
            .order_by(field_path)
            .values_list(field_path, flat=True)
        )


def scoped_list_filter(model, entry):
    """The list filter ``entry`` with its choices read through the user's scope (see above)."""
    path, filter_class = entry if isinstance(entry, tuple) else (entry, None)
    if not isinstance(path, str):
        return entry  # a SimpleListFilter: it writes its own choices
    field = get_fields_from_path(model, path)[-1]
    if field.is_relation and (filter_class is None or issubclass(filter_class, admin.RelatedFieldListFilter)):
        return (path, ScopedRelatedFieldListFilter)
    if (
        filter_class is None
        and "__" in path
        and not (field.choices or field.get_internal_type() == "BooleanField")
    ):
        return (path, ScopedAllValuesFieldListFilter)
    return entry


class AuthorityScopedAdminMixin:
    """Put before ``admin.ModelAdmin`` (or any ModelAdmin subclass) in the bases.

    ``cpr_search_fields`` are searched for an exact CPR number when the search term is one (with
    or without hyphen); any other term goes to the ordinary ``search_fields``, which should not
    contain CPR fields, so that nobody can fish for partial CPR numbers.
    """

    cpr_search_fields: Sequence[str] = ()

    # --- which records --------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return in_caseworker_scope(user=request.user, records=super().get_queryset(request))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        cpr = cpr_in(search_term)
        if cpr is not None and self.cpr_search_fields:
            return self.search_by_cpr(request, queryset, cpr), False
        return super().get_search_results(request, queryset, search_term)

    def search_by_cpr(self, request: HttpRequest, queryset: QuerySet, cpr: str) -> QuerySet:
        condition = Q()
        for field in self.cpr_search_fields:
            condition |= Q(**{field: cpr})
        return queryset.filter(condition)

    def get_list_filter(self, request: HttpRequest):
        return [scoped_list_filter(self.model, entry) for entry in super().get_list_filter(request)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = self.choices_for(request, db_field.remote_field.model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = self.choices_for(request, db_field.remote_field.model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def choices_for(self, request: HttpRequest, model) -> QuerySet:
        """Records a caseworker may pick in a form: their authority's, and none of an unscoped model."""
        return in_caseworker_scope(user=request.user, records=model._default_manager.all())

    # --- may the user -----------------------------------------------------------------------

    def may_use(self, request: HttpRequest) -> bool:
        """Superusers may use every admin; caseworkers only those of models scoped to an authority."""
        user = request.user
        if user.is_superuser:
            return user.is_active
        return self.model in caseworker_scoped_models() and authority_of_caseworker(user) is not None

    def in_scope(self, request: HttpRequest, obj) -> bool:
        return obj is None or is_in_caseworker_scope(user=request.user, record=obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.may_use(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.may_use(request)
            and super().has_view_permission(request, obj)
            and self.in_scope(request, obj)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.may_use(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.may_use(request)
            and super().has_change_permission(request, obj)
            and self.in_scope(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.may_use(request)
            and super().has_delete_permission(request, obj)
            and self.in_scope(request, obj)
        )

    # --- helpers for custom views -----------------------------------------------------------

    def scoped_object(self, request: HttpRequest, object_id: str):
        """The object if it is inside the user's scope, else None (the caller answers "does not exist")."""
        return self.get_object(request, unquote(object_id))

    def does_not_exist(self, request: HttpRequest, object_id: str):
        return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)


class AuthorityScopedAdmin(AuthorityScopedAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyScopedAdmin(AuthorityScopedAdmin):
    """Records that only change through the services: looked at here, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ScopedReadOnlyInline(admin.TabularInline):
    """Records on a parent's page, shown read-only and through the same scope as the parent."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return in_caseworker_scope(user=request.user, records=super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def private_pdf_response(field_file, filename: str) -> FileResponse:
    """Serve a stored private PDF as a download; never inline, so it cannot run in the admin's origin."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    add_never_cache_headers(response)
    return response
