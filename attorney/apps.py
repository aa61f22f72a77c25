from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttorneyConfig(AppConfig):
    name = "attorney"
    verbose_name = _("Powers of attorney")
