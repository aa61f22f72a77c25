from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepresentationConfig(AppConfig):
    name = "representation"
    verbose_name = _("Legal representatives")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
