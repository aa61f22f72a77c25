"""Model admins whose objects are only ever added through a service, never the generic add form."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse


class RegisteredThroughAService:
    """Mixed into a ``ModelAdmin`` with a ``register_view`` that calls the service (which checks,
    audits and tells people what the generic add form would not): the change list links to that
    view, "add" leads there too, and only those with the add permission reach it. Its URL is
    ``<app>_<model>_<register_name>``."""

    register_path = "register/"
    register_name = "register"

    @property
    def register_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{self.register_name}"

    def get_urls(self):
        view = self.admin_site.admin_view(self._register)
        return [path(self.register_path, view, name=self.register_url_name), *super().get_urls()]

    def _register(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self.register_view(request)

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(f"admin:{self.register_url_name}")

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.has_add_permission(request):
            extra_context["register_url"] = reverse(f"admin:{self.register_url_name}")
        return super().changelist_view(request, extra_context)
