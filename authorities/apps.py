from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthoritiesConfig(AppConfig):
    name = "authorities"
    verbose_name = _("Authorities")

    def ready(self) -> None:
        from .catalogue import signals  # noqa: F401
        from .clients import signals as client_signals  # noqa: F401
        from .events import receivers  # noqa: F401
