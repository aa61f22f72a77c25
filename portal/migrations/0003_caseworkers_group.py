"""The "Caseworkers" group: the Django model permissions every caseworker has in the admin.

Which records a caseworker may use them on is decided by their authority membership
(authorities.selectors.in_caseworker_scope), not by this group. The list is a frozen copy of
authorities.services.CASEWORKER_PERMISSIONS; a test checks that the two agree.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Caseworkers"

PERMISSIONS = [
    ("authorities", "view_authority"),
    ("authorities", "view_service"),
    ("authorities", "view_right"),
    ("authorities", "view_citizenfile"),
    ("authorities", "view_letter"),
    ("authorities", "view_application"),
    ("authorities", "change_application"),
    ("attorney", "view_powerofattorney"),
    ("attorney", "add_powerofattorney"),
    ("attorney", "change_powerofattorney"),
    ("portal", "view_auditevent"),
]


def create_caseworkers_group(apps, schema_editor):
    # Django creates permissions only after all migrations have run; on a new database they
    # do not exist yet, so create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in PERMISSIONS
        ]
    )


def remove_caseworkers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0002_audit_append_only"),
        ("authorities", "0003_letters_applications"),
        ("attorney", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_caseworkers_group, remove_caseworkers_group)]
