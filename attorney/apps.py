from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttorneyConfig(AppConfig):
    name = "attorney"
    verbose_name = _("Powers of attorney")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import ask_about_emergency_on_login

        user_logged_in.connect(ask_about_emergency_on_login, dispatch_uid="attorney.emergency_question")

        from organisations.signals import membership_ended

        from .services import end_member_access

        def take_access_away(sender, membership, acting_user, **kwargs) -> None:
            end_member_access(membership=membership, acting_user=acting_user)

        membership_ended.connect(take_access_away, weak=False, dispatch_uid="attorney.membership_ended")
