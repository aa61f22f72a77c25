"""guardian's read paths, made aware of the period a permission row carries.

guardian has no notion of time. ``get_objects_for_user`` and ``prefetch_perms`` read rows through
the direct-FK model's default manager, which already hides rows outside their period. The plain
``ObjectPermissionChecker`` instead joins Permission to the rows through the reverse relation, so
it gets the same period filter added here. ``user.has_perm(perm, citizen_file)`` goes through the
backend below, which uses this checker.
"""

from django.db.models import Model, Q
from django.utils import timezone
from guardian.backends import ObjectPermissionBackend, check_support
from guardian.core import ObjectPermissionChecker
from guardian.utils import get_user_obj_perms_model

from .models import CitizenFileUserObjectPermission


class PeriodAwareObjectPermissionChecker(ObjectPermissionChecker):
    def get_user_perms(self, obj: Model):
        perms = super().get_user_perms(obj)
        model = get_user_obj_perms_model(obj)
        if model is not CitizenFileUserObjectPermission:
            return perms
        related_name = model.permission.field.related_query_name()
        now = timezone.now()
        return perms.filter(
            Q(**{f"{related_name}__valid_from__lte": now}),
            Q(**{f"{related_name}__valid_until__isnull": True})
            | Q(**{f"{related_name}__valid_until__gt": now}),
        )


class CitizenFilePermissionBackend(ObjectPermissionBackend):
    """guardian's object permission backend with the period-aware checker."""

    def has_perm(self, user_obj, perm: str, obj: Model | None = None) -> bool:
        support, user_obj = check_support(user_obj, obj)
        if not support:
            return False
        if "." in perm:
            app_label, perm = perm.split(".", 1)
            if app_label != obj._meta.app_label:
                return False
        checker = PeriodAwareObjectPermissionChecker(user_obj)
        return checker.has_perm(perm, obj)

    def get_all_permissions(self, user_obj, obj: Model | None = None):
        support, user_obj = check_support(user_obj, obj)
        if not support:
            return set()
        return set(PeriodAwareObjectPermissionChecker(user_obj).get_perms(obj))
