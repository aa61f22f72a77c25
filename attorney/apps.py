from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttorneyConfig(AppConfig):
    name = "attorney"
    verbose_name = _("Powers of attorney")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import ask_about_emergency_on_login

        user_logged_in.connect(ask_about_emergency_on_login, dispatch_uid="attorney.emergency_question")
