"""Read-only queries about citizens' records, always scoped to what the acting user may see."""

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from attorney.selectors import effective_rights
from portal.models import AuditEvent, User

from .models import (
    ApiClient,
    Application,
    Authority,
    AuthorityEvent,
    AuthorityMembership,
    CitizenFile,
    Consent,
    ConsentRequest,
    DataCategory,
    Letter,
    LetterRead,
    Right,
    Service,
    WebhookDelivery,
)

READ_MAIL = "read_mail"


def _files_for_rights(*, actor: User, principal: User, rights: list[Right]) -> QuerySet[CitizenFile]:
    """The principal's files at which the actor holds one of ``rights``, by mandate *and* by guardian."""
    if not rights:
        return CitizenFile.objects.none()
    candidates = CitizenFile.objects.filter(
        citizen=principal, authority_id__in={right.service.authority_id for right in rights}
    )
    return get_objects_for_user(
        actor,
        [f"authorities.{right.permission_codename}" for right in rights],
        klass=candidates,
        any_perm=True,
        accept_global_perms=False,
    )


def mail_files(*, actor: User, principal: User) -> QuerySet[CitizenFile]:
    """Files whose letters the actor may read for the principal: all of their own, or by read_mail."""
    if actor.pk == principal.pk:
        return CitizenFile.objects.filter(citizen=principal)
    rights = [
        r for r in effective_rights(actor=actor, principal=principal) if r.code.endswith(f".{READ_MAIL}")
    ]
    return _files_for_rights(actor=actor, principal=principal, rights=rights)


def inbox(*, actor: User, principal: User, authority_id: int | None = None) -> QuerySet[Letter]:
    """Letters the actor may read for the principal, newest first, marked unread for this reader."""
    letters = Letter.objects.filter(citizen_file__in=mail_files(actor=actor, principal=principal))
    if authority_id is not None:
        letters = letters.filter(citizen_file__authority_id=authority_id)
    return (
        letters.select_related("citizen_file__authority")
        .annotate(is_read=Exists(LetterRead.objects.filter(letter=OuterRef("pk"), reader=actor)))
        .order_by("-sent_at")
    )


def visible_letter(*, actor: User, principal: User, letter_id) -> Letter | None:
    return inbox(actor=actor, principal=principal).filter(pk=letter_id).first()


def applying_rights(*, actor: User, principal: User) -> list[Right]:
    """Rights the actor can apply with for the principal (every right when acting for themselves)."""
    if actor.pk == principal.pk:
        return list(Right.objects.select_related("service__authority"))
    return effective_rights(actor=actor, principal=principal)


def services_open_for_applications(*, actor: User, principal: User) -> QuerySet[Service]:
    right_ids = [right.pk for right in applying_rights(actor=actor, principal=principal)]
    return (
        Service.objects.filter(application_form__right_id__in=right_ids)
        .select_related("authority", "application_form")
        .order_by("authority__name_da", "name_da")
    )


def applications(*, actor: User, principal: User) -> QuerySet[Application]:
    """The principal's applications to services the actor may apply to for them."""
    found = Application.objects.filter(citizen_file__citizen=principal)
    if actor.pk != principal.pk:
        rights = [r for r in effective_rights(actor=actor, principal=principal)]
        files = _files_for_rights(actor=actor, principal=principal, rights=rights)
        found = found.filter(
            citizen_file__in=files, service__application_form__right_id__in=[r.pk for r in rights]
        )
    return found.select_related("service__authority", "submitted_by", "on_behalf_of").order_by(
        "-submitted_at"
    )


def done_in_name_of(principal: User) -> QuerySet[AuditEvent]:
    """Everything someone else did for the principal."""
    return (
        AuditEvent.objects.filter(principal=principal)
        .exclude(actor=principal)
        .exclude(actor__isnull=True)
        .select_related("actor", "authority", "log_leaf")
        .order_by("-created_at", "-id")
    )


def done_for_others(actor: User) -> QuerySet[AuditEvent]:
    """Everything the actor did for other people."""
    return (
        AuditEvent.objects.filter(actor=actor, principal__isnull=False)
        .exclude(principal=actor)
        .select_related("principal", "authority", "log_leaf")
        .order_by("-created_at", "-id")
    )


# --- Consent for data use --------------------------------------------------------------------


def consent_requests_for(principal: User) -> QuerySet:
    from .models import ConsentRequest

    if not principal.is_identity_verified:
        # Requests are held by CPR number: an account that only claims the number sees none of them.
        return ConsentRequest.objects.none()
    return ConsentRequest.objects.filter(citizen_national_id=principal.national_id).select_related(
        "authority", "category__authority", "answered_by"
    )


def consents_of(principal: User) -> QuerySet:
    from .models import Consent

    return Consent.objects.filter(citizen=principal).select_related(
        "authority", "category__authority", "given_by", "ended_by", "request"
    )


def consent_in_force(*, authority_id: int, citizen_national_id: str, category_code: str):
    """The consent the authority may rely on right now, or None. Reads the period, so it says no
    the second a consent ends, whether or not the expiry job has run."""
    from django.utils import timezone

    from .models import Consent, ConsentStatus

    now = timezone.now()
    return (
        Consent.objects.filter(
            authority_id=authority_id,
            citizen__national_id=citizen_national_id,
            citizen__identity_verified_at__isnull=False,
            category__code=category_code,
            status=ConsentStatus.GRANTED,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .order_by("-valid_until")
        .first()
    )


# --- Caseworkers in the admin ----------------------------------------------------------------


def authority_of_caseworker(user: User) -> Authority | None:
    """The one authority an active staff member works for, or None if they are not a caseworker.

    Memoised on the user object, because the admin asks several times per request.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if not hasattr(user, "_caseworker_authority"):
        membership = AuthorityMembership.objects.select_related("authority").filter(user=user).first()
        user._caseworker_authority = membership.authority if membership else None
    return user._caseworker_authority


def _records_at_authority() -> dict[type, Callable[[QuerySet, Authority], QuerySet]]:
    from attorney.models import PowerOfAttorney

    return {
        Authority: lambda records, authority: records.filter(pk=authority.pk),
        Service: lambda records, authority: records.filter(authority=authority),
        Right: lambda records, authority: records.filter(service__authority=authority),
        CitizenFile: lambda records, authority: records.filter(authority=authority),
        Letter: lambda records, authority: records.filter(citizen_file__authority=authority),
        Application: lambda records, authority: records.filter(citizen_file__authority=authority),
        # A mandate concerns every authority whose rights it includes; Exists avoids the duplicate
        # rows a join over the rights would give.
        PowerOfAttorney: lambda records, authority: records.filter(
            Exists(Right.objects.filter(powers_of_attorney=OuterRef("pk"), service__authority=authority))
        ),
        AuditEvent: lambda records, authority: records.filter(authority=authority),
        DataCategory: lambda records, authority: records.filter(authority=authority),
        ConsentRequest: lambda records, authority: records.filter(authority=authority),
        Consent: lambda records, authority: records.filter(authority=authority),
        ApiClient: lambda records, authority: records.filter(authority=authority),
        AuthorityEvent: lambda records, authority: records.filter(authority=authority),
        WebhookDelivery: lambda records, authority: records.filter(client__authority=authority),
    }


def caseworker_scoped_models() -> frozenset[type]:
    """The models a caseworker can ever see in the admin; everything else is for the service desk."""
    return frozenset(_records_at_authority())


def in_caseworker_scope(*, user: User, records: QuerySet) -> QuerySet:
    """The part of ``records`` the user may see and change in the admin.

    Superusers (the national service desk) see everything; a caseworker sees the records of the
    authority they work for; anyone else, and any model not scoped to an authority, sees nothing.
    Every admin list, change view, search, filter, autocomplete, action and custom view reads
    through here, so the rule lives in one place.
    """
    if user.is_authenticated and user.is_active and user.is_superuser:
        return records
    authority = authority_of_caseworker(user)
    scope = _records_at_authority().get(records.model)
    if authority is None or scope is None:
        return records.none()
    return scope(records, authority)


def is_in_caseworker_scope(*, user: User, record) -> bool:
    """Whether one record is inside the user's scope (see ``in_caseworker_scope``)."""
    model = type(record)
    return in_caseworker_scope(user=user, records=model._default_manager.filter(pk=record.pk)).exists()


def audit_events_about_cpr(*, events: QuerySet[AuditEvent], cpr: str) -> QuerySet[AuditEvent]:
    """Events where the person with this (normalised) CPR acted, was acted for, or is the citizen or
    a party named in the details (an authority's decisions name the citizen only there)."""
    # Every account with the number: the verified owner and any that only claimed it, so a caseworker
    # looking into a misuse sees what the claimants did too.
    condition = Q()
    for person_id in User.objects.filter(national_id=cpr).values_list("pk", flat=True):
        condition |= (
            Q(actor_id=person_id)
            | Q(principal_id=person_id)
            | Q(details__citizen=person_id)
            | Q(details__grantor=person_id)
            | Q(details__attorney=person_id)
        )
    return events.filter(condition) if condition else events.none()
