from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from authorities.catalogue.models import (
    Authority,
    AuthorityMembership,
    CitizenFile,
    Right,
    permission_codename_for,
)
from portal.audit import record_event
from portal.errors import Invalid, NotAllowed
from portal.models import User


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
    # get_or_create guards the race of two first uses with its own savepoint.
    citizen_file, _ = CitizenFile.objects.get_or_create(citizen=citizen, authority=authority)
    return citizen_file


def citizen_files_for(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], CitizenFile]:
    """``get_or_create_citizen_file`` for many (citizen id, authority id) pairs at once, in a fixed
    number of queries: by pair, the file."""
    if not pairs:
        return {}
    citizens, authorities = {citizen for citizen, _ in pairs}, {authority for _, authority in pairs}

    def existing() -> dict[tuple[int, int], CitizenFile]:
        files = CitizenFile.objects.filter(citizen_id__in=citizens, authority_id__in=authorities)
        return {key: file for file in files if (key := (file.citizen_id, file.authority_id)) in pairs}

    found = existing()
    missing = pairs - found.keys()
    if missing:
        # A file another transaction creates meanwhile is kept (the unique constraint), and read back.
        CitizenFile.objects.bulk_create(
            [CitizenFile(citizen_id=citizen, authority_id=authority) for citizen, authority in missing],
            ignore_conflicts=True,
        )
        found = existing()
    return found


CASEWORKER_GROUP = "Caseworkers"


# What a caseworker may do in the admin, as Django model permissions. Which records they may do it
# to is decided by their authority (authorities.catalogue.selectors.in_caseworker_scope). The data migration
# portal/0003_caseworkers_group creates the group with exactly these; change both together.
CASEWORKER_PERMISSIONS = (
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
    ("authorities", "view_datacategory"),
    ("authorities", "view_consentrequest"),
    ("authorities", "view_consent"),
    ("authorities", "view_authorityevent"),
    ("authorities", "view_webhookdelivery"),
    ("authorities", "view_datause"),
    ("authorities", "view_refuseddatause"),
    ("representation", "view_representation"),
    ("representation", "add_representation"),
    ("representation", "change_representation"),
    # Organisations belong to no authority: any caseworker registers one after checking the CVR
    # register, and sees its members (organisations migration 0002).
    ("organisations", "view_organisation"),
    ("organisations", "add_organisation"),
    ("organisations", "view_membership"),
)


def ensure_caseworker_group():
    """The caseworkers' group exists with exactly the caseworker permissions (safe to call again)."""
    from django.contrib.auth.models import Group

    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=CASEWORKER_GROUP)
        wanted = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in CASEWORKER_PERMISSIONS
        ]
        group.permissions.set(wanted)
    return group


def appoint_caseworker(*, user: User, authority: Authority, acting_user: User) -> AuthorityMembership:
    """The service desk makes a person a caseworker at one authority (or moves them to another).

    A caseworker works for exactly one authority, is staff, and is in the caseworkers' group; MFA is
    enforced when they open the admin. Service-desk accounts (superusers) are not caseworkers.
    """
    if not acting_user.is_superuser:
        raise NotAllowed(_("Only the service desk can appoint caseworkers."))
    if user.is_superuser:
        raise Invalid({"user": _("A service-desk account cannot also be a caseworker.")})
    # Not durable: the admin saves inside its own transaction (ModelAdmin.changeform_view), which is
    # then the outermost one.
    with transaction.atomic():
        membership, created = AuthorityMembership.objects.update_or_create(
            user=user, defaults={"authority": authority}
        )
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(ensure_caseworker_group())
        record_event(
            action="caseworker.appointed",
            actor=acting_user,
            authority=authority,
            target=membership,
            details={"caseworker": user.pk, "moved": not created},
        )
    return membership
