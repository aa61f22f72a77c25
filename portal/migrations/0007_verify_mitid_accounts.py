"""Existing accounts: a MitID login already proved the CPR number; every other number is a claim.

Pending powers of attorney addressed to an account whose number is only claimed go back to being
invitations for the CPR number and name, so only the verified owner can see and accept them.
"""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone


def verify_mitid_accounts(apps, schema_editor):
    User = apps.get_model("portal", "User")
    SocialAccount = apps.get_model("socialaccount", "SocialAccount")
    PowerOfAttorney = apps.get_model("attorney", "PowerOfAttorney")
    linked = SocialAccount.objects.filter(provider="saml").values("user_id")
    User.objects.filter(pk__in=linked, national_id__isnull=False).update(
        identity_verified_at=timezone.now(), identity_verification="mitid"
    )
    unverified_pending = PowerOfAttorney.objects.filter(
        Q(attorney__identity_verified_at__isnull=True), status="pending", attorney__isnull=False
    ).select_related("attorney")
    for mandate in unverified_pending:
        mandate.invitee_national_id = mandate.attorney.national_id or ""
        mandate.invitee_name = mandate.attorney.name
        if mandate.invitee_national_id:
            mandate.attorney = None
            mandate.save(update_fields=["attorney", "invitee_national_id", "invitee_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_verified_identity"),
        ("attorney", "0004_accesscode_accesscodeview"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
    ]

    operations = [migrations.RunPython(verify_mitid_accounts, migrations.RunPython.noop)]
