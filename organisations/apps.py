from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .context_processors import remember_on_login

        user_logged_in.connect(remember_on_login, dispatch_uid="organisations.menu")
