"""Caseworkers may look at and register organisations (having checked them in the CVR register)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Caseworkers"
ADDED = ["view_organisation", "add_organisation", "view_membership"]


def add_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="organisations", codename__in=ADDED)
    )


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="organisations", codename__in=ADDED)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0001_initial"),
        ("portal", "0004_caseworkers_see_consents_and_events"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
