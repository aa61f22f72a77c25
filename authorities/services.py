from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from portal.models import User

from .models import Authority, CitizenFile, Right, permission_codename_for


def ensure_right_permission(*, right: Right) -> Permission:
    """Each right has exactly one permission on CitizenFile, named after the right's code."""
    content_type = ContentType.objects.get_for_model(CitizenFile)
    permission, _ = Permission.objects.update_or_create(
        content_type=content_type,
        codename=permission_codename_for(right.code),
        defaults={"name": f"Right {right.code}"[:255]},
    )
    if right.permission_id != permission.pk:
        Right.objects.filter(pk=right.pk).update(permission=permission)
        right.permission = permission
    return permission


def get_or_create_citizen_file(*, citizen: User, authority: Authority) -> CitizenFile:
    """A citizen's file at an authority is created the first time something needs it."""
    with transaction.atomic():
        citizen_file, _ = CitizenFile.objects.get_or_create(citizen=citizen, authority=authority)
    return citizen_file
