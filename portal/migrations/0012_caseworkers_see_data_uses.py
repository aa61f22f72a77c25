"""Caseworkers may look at their authority's reported data uses and the reports refused."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Caseworkers"

ADDED = [
    ("authorities", "view_datause"),
    ("authorities", "view_refuseddatause"),
]


def add_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(
        *[Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in ADDED]
    )


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="authorities", codename__in=[codename for _, codename in ADDED]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0011_emergency_actions"),
        ("authorities", "0008_data_uses"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
