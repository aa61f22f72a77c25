"""guardian's read paths, made aware of the period a permission row carries.

guardian has no notion of time. ``get_objects_for_user`` and ``prefetch_perms`` read rows through
the direct-FK model's default manager, which already hides rows outside their period. The plain
``ObjectPermissionChecker`` instead joins Permission to the rows through the reverse relation, so
it gets the same period filter added here. ``user.has_perm(perm, citizen_file)`` goes through the
backend below, which uses this checker.
"""

from django.contrib.auth.models import Permission
from django.db.models import Model
from guardian.backends import ObjectPermissionBackend, check_support
from guardian.core import ObjectPermissionChecker
from guardian.utils import get_user_obj_perms_model

from .models import CitizenFileUserObjectPermission


class PeriodAwareObjectPermissionChecker(ObjectPermissionChecker):
    def get_user_perms(self, obj: Model):
        model = get_user_obj_perms_model(obj)
        if model is not CitizenFileUserObjectPermission:
            return super().get_user_perms(obj)
        if self.user and not self.user.is_active:
            return Permission.objects.none().values_list("codename", flat=True)
        # One query through the model's own manager, so the user, the object and the period all
        # apply to the same row (two filter() calls over the reverse relation would join it twice
        # and let another person's row satisfy the period).
        rows = CitizenFileUserObjectPermission.objects.filter(user=self.user, content_object=obj)
        return Permission.objects.filter(pk__in=rows.values("permission_id")).values_list(
            "codename", flat=True
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
