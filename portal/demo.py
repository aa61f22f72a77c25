"""The demo world: the authorities with their rights, citizens, a caseworker for each authority and
an accountancy firm whose employee acts for Karen.

Used by ``manage.py seed_demo`` and listed in the README. Every function here is idempotent.
"""

import datetime
import io
import secrets
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import OrganisationAccess, PowerOfAttorney, Status
from authorities.applications import services as applications_services
from authorities.applications.models import (
    Application,
    ApplicationForm,
    ApplicationStatus,
    ApplicationValueKind,
)
from authorities.catalogue import services as catalogue_services
from authorities.catalogue.models import Authority, AuthorityMembership, Right, Service
from authorities.clients.models import ApiClient
from authorities.consent import services as consent_services
from authorities.consent.models import Consent, ConsentRequest, DataCategory
from authorities.datause import services as datause_services
from authorities.datause.models import DataUse
from authorities.post import services as post_services
from authorities.post.models import Letter
from organisations import services as organisation_services
from organisations.models import Membership, Organisation, Role
from organisations.selectors import membership_in
from portal.models import IdentityVerification, User

DEMO_PASSWORD = "Fuldmagt-demo-2026"  # noqa: S105 - documented demo login
# Base32 TOTP secret shared by the demo caseworkers, so a newcomer can add it to an authenticator app
# (or run ``manage.py demo_totp``) and log in to the admin.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
# A known API token for Skattestyrelsen's demo system, so the API can be tried with curl at once.
DEMO_API_TOKEN = "fmt_demo-skat-token-not-for-production"  # noqa: S105
# And one for Udbetaling Danmark's, which holds Karen's consent and can report a use of her data.
DEMO_UD_API_TOKEN = "fmt_demo-ud-token-not-for-production"  # noqa: S105

CATALOGUE = [
    {
        "slug": "skat",
        "cvr": "19552101",
        "name_da": "Skattestyrelsen",
        "name_en": "Danish Tax Agency",
        "services": [
            (
                "digital-post",
                "Digital Post",
                "Digital Post",
                [
                    (
                        "read_mail",
                        "Læse post fra Skattestyrelsen",
                        "Read letters from the Danish Tax Agency",
                        "Se og læse breve fra Skattestyrelsen.",
                        "See and read letters from the Danish Tax Agency.",
                    ),
                ],
            ),
            (
                "aarsopgoerelse",
                "Årsopgørelse",
                "Annual tax statement",
                [
                    (
                        "view_tax_assessment",
                        "Se årsopgørelsen",
                        "See the annual tax statement",
                        "Se årsopgørelsen og tidligere år.",
                        "See the annual tax statement and earlier years.",
                    ),
                    (
                        "change_tax_return",
                        "Rette oplysninger på årsopgørelsen",
                        "Correct the annual tax statement",
                        "Rette fradrag og indkomst på årsopgørelsen.",
                        "Correct deductions and income on the statement.",
                    ),
                ],
            ),
            (
                "forskudsopgoerelse",
                "Forskudsopgørelse",
                "Preliminary income assessment",
                [
                    (
                        "change_preliminary_assessment",
                        "Ændre forskudsopgørelsen",
                        "Change the preliminary assessment",
                        "",
                        "",
                    ),
                ],
            ),
        ],
    },
    {
        "slug": "udbetaling-danmark",
        "cvr": "29980931",
        "name_da": "Udbetaling Danmark",
        "name_en": "Payments Denmark",
        "services": [
            (
                "digital-post",
                "Digital Post",
                "Digital Post",
                [
                    (
                        "read_mail",
                        "Læse post fra Udbetaling Danmark",
                        "Read letters from Payments Denmark",
                        "Se og læse breve om pension og ydelser.",
                        "See and read letters about pension and benefits.",
                    ),
                ],
            ),
            (
                "folkepension",
                "Folkepension",
                "State pension",
                [
                    (
                        "apply_pension_supplement",
                        "Søge om pensionstillæg",
                        "Apply for a pension supplement",
                        "",
                        "",
                    ),
                ],
            ),
            (
                "boligstoette",
                "Boligstøtte",
                "Housing benefit",
                [
                    ("apply_housing_benefit", "Søge om boligstøtte", "Apply for housing benefit", "", ""),
                ],
            ),
        ],
    },
    {
        "slug": "kobenhavns-kommune",
        "cvr": "64942212",
        "name_da": "Københavns Kommune",
        "name_en": "City of Copenhagen",
        "services": [
            (
                "digital-post",
                "Digital Post",
                "Digital Post",
                [
                    (
                        "read_mail",
                        "Læse post fra Københavns Kommune",
                        "Read letters from the City of Copenhagen",
                        "",
                        "",
                    ),
                ],
            ),
            (
                "hjemmehjaelp",
                "Hjemmehjælp",
                "Home care",
                [
                    ("apply_home_care", "Søge om hjemmehjælp", "Apply for home care", "", ""),
                ],
            ),
            (
                "handicapparkering",
                "Handicapparkering",
                "Disabled parking",
                [
                    (
                        "apply_disabled_parking",
                        "Søge om handicapparkeringskort",
                        "Apply for a disabled parking card",
                        "",
                        "",
                    ),
                ],
            ),
        ],
    },
]

CATALOGUE.append(
    {
        "slug": "familieretshuset",
        "cvr": "39914651",
        "name_da": "Familieretshuset",
        "name_en": "Agency of Family Law",
        "services": [
            (
                "digital-post",
                "Digital Post",
                "Digital Post",
                [
                    (
                        "read_mail",
                        "Læse post fra Familieretshuset",
                        "Read letters from the Agency of Family Law",
                        "Se og læse breve om forældremyndighed, samvær og værgemål.",
                        "See and read letters about custody, contact and guardianship.",
                    ),
                ],
            ),
        ],
    }
)

#: Each authority's catalogue says which of its rights a parent with custody holds for a child, and
#: whether a right concerns personal or financial matters (a guardianship's scope covers those).
LEGAL_REPRESENTATION_RIGHTS = {
    # code: (matters, held by parents with custody)
    "skat.read_mail": ("financial", True),
    "skat.view_tax_assessment": ("financial", True),
    "skat.change_tax_return": ("financial", False),
    "skat.change_preliminary_assessment": ("financial", False),
    "skat.consent": ("financial", True),
    "udbetaling-danmark.read_mail": ("financial", True),
    "udbetaling-danmark.apply_pension_supplement": ("financial", False),
    "udbetaling-danmark.apply_housing_benefit": ("financial", True),
    "udbetaling-danmark.consent": ("financial", True),
    "kobenhavns-kommune.read_mail": ("personal", True),
    "kobenhavns-kommune.apply_home_care": ("personal", True),
    "kobenhavns-kommune.apply_disabled_parking": ("personal", True),
    "kobenhavns-kommune.consent": ("personal", True),
    "familieretshuset.read_mail": ("personal", True),
    "familieretshuset.consent": ("personal", True),
}

CITIZENS = [
    ("karen@example.dk", "Karen Jensen", "0102451234"),
    ("peter@example.dk", "Peter Jensen", "1503752345"),
    ("ole@example.dk", "Ole Hansen", "2308603456"),
    # Peter's daughter, Karen's grandchild: a minor, in the CPR register with Peter as custodian.
    ("emma@example.dk", "Emma Jensen", "1406124321"),
    # A man under financial guardianship, and his daughter, his guardian.
    ("bent@example.dk", "Bent Olsen", "0507484321"),
    ("lone@example.dk", "Lone Olsen", "2209791678"),
    # A mother who appointed her son and daughter jointly: an application one makes waits for the other.
    ("inge@example.dk", "Inge Madsen", "0903412218"),
    ("hans@example.dk", "Hans Madsen", "1707683219"),
    ("mette@example.dk", "Mette Madsen", "2511713320"),
]

CASEWORKERS = [
    ("sagsbehandler.skat@example.dk", "Sofie Skov", "skat"),
    ("sagsbehandler.ud@example.dk", "Mads Udbye", "udbetaling-danmark"),
    ("sagsbehandler.kk@example.dk", "Lise Kommune", "kobenhavns-kommune"),
    ("sagsbehandler.frh@example.dk", "Frida Retslund", "familieretshuset"),
    ("borgerservice@example.dk", "Jonas Borg", "kobenhavns-kommune"),
]

# The municipality's citizen service desk: verifies identity from papers and approves emergency
# powers of attorney, which take two of them.
SERVICE_DESK = ["sagsbehandler.kk@example.dk", "borgerservice@example.dk"]

#: The sample extract of the CPR register's parental custody and Familieretshuset's guardianships,
#: loaded through the real import (``manage.py import_register``).
DEMO_REGISTER_EXTRACT = (
    Path(__file__).resolve().parent.parent / "representation" / "fixtures" / "demo-register-extract.jsonl"
)

# Someone Karen invites who has not signed up yet: the invitation waits for this CPR number.
INVITEE = ("1203904567", "Anne Jensen")

# An accountancy firm as attorney: registered by the service desk, with an administrator and an
# employee who joined by their invitations. Karen gives it a power of attorney for her tax matters;
# Anne accepts it and lets Bo use it.
ORGANISATION = ("12345674", "Revisorhuset A/S")
ORGANISATION_REGISTRAR = "sagsbehandler.kk@example.dk"
ORGANISATION_MEMBERS = [
    ("anne.revisor@example.dk", "Anne Revisor", "1208804567", Role.ADMINISTRATOR),
    ("bo.bogholder@example.dk", "Bo Bogholder", "0309905678", Role.EMPLOYEE),
]
ORGANISATION_RIGHTS = ("skat.read_mail", "skat.view_tax_assessment")


def seed_catalogue() -> None:
    for spec in CATALOGUE:
        authority, _ = Authority.objects.update_or_create(
            slug=spec["slug"],
            defaults={"cvr": spec["cvr"], "name_da": spec["name_da"], "name_en": spec["name_en"]},
        )
        for service_slug, service_da, service_en, rights in spec["services"]:
            service, _ = Service.objects.update_or_create(
                authority=authority,
                slug=service_slug,
                defaults={"name_da": service_da, "name_en": service_en},
            )
            for code, name_da, name_en, description_da, description_en in rights:
                right, created = Right.objects.get_or_create(
                    code=f"{authority.slug}.{code}",
                    defaults={
                        "service": service,
                        "name_da": name_da,
                        "name_en": name_en,
                        "description_da": description_da,
                        "description_en": description_en,
                    },
                )


DATA_CATEGORIES = [
    (
        "skat",
        "skat.income",
        "Indkomstoplysninger fra Skattestyrelsen",
        "Income data from the Danish Tax Agency",
        "Din løn, pension og andre indkomster fra indkomstregisteret.",
        "Your salary, pension and other income from the income register.",
        365,
    ),
    (
        "udbetaling-danmark",
        "udbetaling-danmark.pension",
        "Oplysninger om din folkepension",
        "Your state pension details",
        "Hvor meget du får i folkepension og tillæg.",
        "How much you receive in state pension and supplements.",
        730,
    ),
    (
        "kobenhavns-kommune",
        "kobenhavns-kommune.care_plan",
        "Din plan for hjemmepleje",
        "Your home care plan",
        "Hvilken hjælp du får fra kommunen, og hvornår.",
        "What help you get from the municipality, and when.",
        365,
    ),
]

# Data some authorities use without consent because a law says so: (code, legal basis da, en).
LEGAL_BASES = [
    (
        "udbetaling-danmark.pension",
        "Lov om social pension § 43 (oplysninger til kontrol af pension)",
        "Social Pensions Act section 43 (information to check pensions)",
    ),
]


def seed_consent_catalogue() -> None:
    """Each authority has a consent right (needed by attorneys to answer its requests) and data categories."""
    for authority in Authority.objects.all():
        service, _ = Service.objects.update_or_create(
            authority=authority, slug="samtykke", defaults={"name_da": "Samtykke", "name_en": "Consent"}
        )
        Right.objects.get_or_create(
            code=f"{authority.slug}.consent",
            defaults={
                "service": service,
                "name_da": f"Svare på anmodninger om samtykke fra {authority.name_da}",
                "name_en": f"Answer requests for consent from {authority.name_en}",
            },
        )
    for slug, code, name_da, name_en, description_da, description_en, max_days in DATA_CATEGORIES:
        DataCategory.objects.update_or_create(
            code=code,
            defaults={
                "authority": Authority.objects.get(slug=slug),
                "name_da": name_da,
                "name_en": name_en,
                "description_da": description_da,
                "description_en": description_en,
                "max_days": max_days,
            },
        )
    for code, legal_basis_da, legal_basis_en in LEGAL_BASES:
        DataCategory.objects.filter(code=code).update(
            legal_basis_da=legal_basis_da, legal_basis_en=legal_basis_en
        )


def seed_consents(people: dict[str, User]) -> None:
    karen = people["karen@example.dk"]
    if ConsentRequest.objects.filter(citizen_national_id=karen.national_id).exists():
        return
    kommune, ud = (
        Authority.objects.get(slug="kobenhavns-kommune"),
        Authority.objects.get(slug="udbetaling-danmark"),
    )
    consent_services.request_consent(
        authority=kommune,
        citizen_national_id=karen.national_id,
        category=DataCategory.objects.get(code="skat.income"),
        purpose_da="Vi skal beregne, hvor meget du skal betale for hjemmepleje.",
        purpose_en="We need to calculate how much you pay for home care.",
        days=180,
    )
    granted = consent_services.request_consent(
        authority=ud,
        citizen_national_id=karen.national_id,
        category=DataCategory.objects.get(code="skat.income"),
        purpose_da="Vi skal beregne din boligstøtte ud fra din indkomst.",
        purpose_en="We need to calculate your housing benefit from your income.",
        days=365,
    )
    consent = consent_services.grant_consent(consent_request=granted, acting_user=karen, principal=karen)
    # Given two months ago, so that Udbetaling Danmark has had time to use the data (seed_data_uses).
    given = consent.valid_from - datetime.timedelta(days=60)
    ConsentRequest.objects.filter(pk=granted.pk).update(answered_at=given)
    Consent.objects.filter(pk=consent.pk).update(
        valid_from=given, valid_until=given + datetime.timedelta(days=granted.days)
    )


DEMO_DATA_USES = [
    # (own id, days after the consent was given, purpose, case reference)
    ("ud-demo-1", 2, "Beregning af din boligstøtte for næste år", "BS-2026-1141"),
    ("ud-demo-2", 20, "Kontrol af din indkomst efter ændring i husstanden", "BS-2026-1141"),
    ("ud-demo-3", 45, "Genberegning af boligstøtten efter årsopgørelsen", "BS-2026-2087"),
]


def seed_data_uses(people: dict[str, User]) -> None:
    """Udbetaling Danmark reports three uses of Karen's income data under her consent."""
    karen = people["karen@example.dk"]
    ud = ApiClient.objects.get(token_hash=_token_hash(DEMO_UD_API_TOKEN))
    consent = karen.consents.filter(authority=ud.authority, category__code="skat.income").first()
    if consent is None or DataUse.objects.filter(authority=ud.authority, external_id="ud-demo-1").exists():
        return
    reports = [
        datause_services.Report(
            external_id=external_id,
            citizen_national_id=karen.national_id,
            category=consent.category,
            purpose=purpose,
            used_at=min(consent.valid_from + datetime.timedelta(days=days), timezone.now()),
            case_reference=reference,
        )
        for external_id, days, purpose, reference in DEMO_DATA_USES
    ]
    datause_services.report_data_uses(client=ud, reports=reports)


def _user(email: str, name: str, national_id: str | None, *, is_staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        # The demo's citizens are seeded as if they had logged in with MitID once.
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            name=name,
            national_id=national_id,
            is_staff=is_staff,
            identity_verified_at=timezone.now() if national_id else None,
            identity_verification=IdentityVerification.MITID if national_id else "",
        )
    elif national_id and not user.is_identity_verified:
        User.objects.filter(pk=user.pk).update(
            identity_verified_at=timezone.now(), identity_verification=IdentityVerification.MITID
        )
        user.refresh_from_db()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed_people() -> dict[str, User]:
    people = {email: _user(email, name, cpr) for email, name, cpr in CITIZENS}
    people.update({email: _user(email, name, cpr) for email, name, cpr, _role in ORGANISATION_MEMBERS})
    caseworkers = catalogue_services.ensure_caseworker_group()
    for email, name, slug in CASEWORKERS:
        caseworker = _user(email, name, None, is_staff=True)
        AuthorityMembership.objects.update_or_create(
            user=caseworker, defaults={"authority": Authority.objects.get(slug=slug)}
        )
        caseworker.groups.add(caseworkers)
        if not Authenticator.objects.filter(user=caseworker, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(caseworker, DEMO_TOTP_SECRET)
        people[email] = caseworker
    desk_permissions = [
        Permission.objects.get(content_type__app_label="portal", codename="verify_identity"),
        Permission.objects.get(content_type__app_label="attorney", codename="approve_emergencyrequest"),
    ]
    for email in SERVICE_DESK:
        people[email].user_permissions.add(*desk_permissions)
    return people


def seed_emergency_request(people: dict[str, User]) -> None:
    """Ole asks to read Karen's municipality letters while she is in hospital; it waits for the
    service desk's two approvals."""
    from attorney.models import EmergencyRequest

    karen, ole = people["karen@example.dk"], people["ole@example.dk"]
    if EmergencyRequest.objects.filter(relative=ole, citizen=karen).exists():
        return
    attorney_services.request_emergency_power_of_attorney(
        acting_user=ole,
        citizen_national_id=karen.national_id,
        citizen_name=karen.name,
        authorities=Authority.objects.filter(slug="kobenhavns-kommune"),
        days=14,
        reason="Karen er indlagt efter et fald og kan ikke selv logge ind. Hun venter brev om hjemmepleje.",
    )


def _rights(*codes: str) -> list[Right]:
    return list(Right.objects.filter(code__in=codes))


def seed_powers_of_attorney(people: dict[str, User]) -> None:
    karen, peter = people["karen@example.dk"], people["peter@example.dk"]
    now = timezone.now()
    main_rights = _rights("skat.read_mail", "skat.view_tax_assessment", "udbetaling-danmark.read_mail")
    if not PowerOfAttorney.objects.filter(grantor=karen, attorney=peter, status=Status.ACTIVE).exists():
        mandate = attorney_services.grant_power_of_attorney(
            acting_user=karen,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=main_rights,
            valid_from=now,
            valid_until=now + datetime.timedelta(days=365 * 2),
        )
        attorney_services.accept(power_of_attorney=mandate, acting_user=peter)

    if not PowerOfAttorney.objects.filter(grantor=karen, invitee_national_id=INVITEE[0]).exists():
        attorney_services.grant_power_of_attorney(
            acting_user=karen,
            attorney_national_id=INVITEE[0],
            attorney_name=INVITEE[1],
            rights=_rights("kobenhavns-kommune.read_mail"),
            valid_from=now,
            valid_until=now + datetime.timedelta(days=365),
        )

    if not PowerOfAttorney.objects.filter(grantor=karen, status=Status.EXPIRED).exists():
        old = attorney_services.grant_power_of_attorney(
            acting_user=karen,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=_rights("kobenhavns-kommune.apply_home_care"),
            valid_from=now,
            valid_until=now + datetime.timedelta(days=1),
        )
        attorney_services.accept(power_of_attorney=old, acting_user=peter)
        # Demo history only: move the period into the past, then let the normal expiry end it.
        past_from, past_until = now - datetime.timedelta(days=400), now - datetime.timedelta(days=35)
        PowerOfAttorney.objects.filter(pk=old.pk).update(
            valid_from=past_from, valid_until=past_until, activated_at=past_from
        )
        old.permission_rows.all().delete()
        attorney_services.expire_due(now=now)


def _join(person: User, organisation: Organisation, code: str | None) -> Membership:
    """The person joins by their invitation's code, unless they already have."""
    membership = membership_in(user=person, organisation_id=organisation.pk)
    if membership is not None:
        return membership
    if code is None:
        # Demo only: a run that stopped half-way left an open invitation whose code is lost (only its
        # hash is kept), so the invitation gets a new code.
        invitation = Membership.objects.get(
            organisation=organisation,
            invited_email=person.email,
            joined_at__isnull=True,
            left_at__isnull=True,
        )
        code = secrets.token_urlsafe(24)
        Membership.objects.filter(pk=invitation.pk).update(
            invitation_hash=organisation_services.hash_invitation(code)
        )
    return organisation_services.join_organisation(acting_user=person, code=code)


def seed_organisation(people: dict[str, User]) -> Organisation:
    """Revisorhuset A/S, through the real services: the service desk registers it and invites Anne
    as administrator; she invites Bo as employee; both join by their codes; Karen gives Revisorhuset
    a power of attorney with Skattestyrelsen's rights to read letters and the tax statement; Anne
    accepts it and gives Bo access to it."""
    cvr, name = ORGANISATION
    (anne_email, anne_name, anne_cpr, _), (bo_email, bo_name, _bo_cpr, bo_role) = ORGANISATION_MEMBERS
    anne, bo, karen = people[anne_email], people[bo_email], people["karen@example.dk"]
    organisation, code = Organisation.objects.filter(cvr=cvr).first(), None
    if organisation is None:
        organisation, code = organisation_services.register_organisation(
            acting_user=people[ORGANISATION_REGISTRAR],
            cvr=cvr,
            name=name,
            administrator_national_id=anne_cpr,
            administrator_name=anne_name,
            administrator_email=anne_email,
        )
    _join(anne, organisation, code)
    code = None
    if not Membership.objects.filter(organisation=organisation, invited_email=bo_email).exists():
        _invitation, code = organisation_services.invite_member(
            acting_user=anne, organisation=organisation, name=bo_name, email=bo_email, role=bo_role
        )
    bo_membership = _join(bo, organisation, code)

    mandate = PowerOfAttorney.objects.filter(
        grantor=karen, organisation=organisation, status__in=[Status.PENDING, Status.ACTIVE]
    ).first()
    if mandate is None:
        now = timezone.now()
        mandate = attorney_services.grant_power_of_attorney_to_organisation(
            acting_user=karen,
            cvr=cvr,
            organisation_name=name,
            rights=_rights(*ORGANISATION_RIGHTS),
            valid_from=now,
            valid_until=now + datetime.timedelta(days=365),
        )
    if mandate.status == Status.PENDING:
        mandate = attorney_services.accept(power_of_attorney=mandate, acting_user=anne)
    if (
        not OrganisationAccess.objects.current()
        .filter(membership=bo_membership, power_of_attorney=mandate)
        .exists()
    ):
        attorney_services.give_organisation_access(
            acting_user=anne, membership=bo_membership, power_of_attorney=mandate
        )
    return organisation


APPLICATION_FORMS = [
    (
        "skat",
        "aarsopgoerelse",
        "skat.change_tax_return",
        ApplicationValueKind.AMOUNT,
        "Beløb der skal rettes (kr.)",
        "Amount to correct (DKK)",
    ),
    (
        "udbetaling-danmark",
        "folkepension",
        "udbetaling-danmark.apply_pension_supplement",
        ApplicationValueKind.AMOUNT,
        "Ansøgt tillæg pr. måned (kr.)",
        "Supplement applied for per month (DKK)",
    ),
    (
        "udbetaling-danmark",
        "boligstoette",
        "udbetaling-danmark.apply_housing_benefit",
        ApplicationValueKind.AMOUNT,
        "Husleje pr. måned (kr.)",
        "Rent per month (DKK)",
    ),
    (
        "kobenhavns-kommune",
        "hjemmehjaelp",
        "kobenhavns-kommune.apply_home_care",
        ApplicationValueKind.DATE,
        "Ønsket startdato",
        "Wanted start date",
    ),
    (
        "kobenhavns-kommune",
        "handicapparkering",
        "kobenhavns-kommune.apply_disabled_parking",
        ApplicationValueKind.DATE,
        "Kortet skal gælde fra",
        "The card should apply from",
    ),
]

LETTERS = [
    (
        "skat",
        "Din årsopgørelse for 2025 er klar",
        "Kære Karen Jensen\n\nDin årsopgørelse for 2025 er nu klar. "
        "Du skal betale 1.250 kr. i restskat.\n\nVenlig hilsen\nSkattestyrelsen",
        True,
    ),
    (
        "skat",
        "Forskudsopgørelse 2027",
        "Kære Karen Jensen\n\nDin forskudsopgørelse for 2027 er dannet. "
        "Tjek at oplysningerne er rigtige.\n\nVenlig hilsen\nSkattestyrelsen",
        False,
    ),
    (
        "udbetaling-danmark",
        "Din folkepension fra 1. januar",
        "Kære Karen Jensen\n\nVi har reguleret din "
        "folkepension fra 1. januar.\n\nVenlig hilsen\nUdbetaling Danmark",
        False,
    ),
    (
        "kobenhavns-kommune",
        "Besøg fra hjemmeplejen",
        "Kære Karen Jensen\n\nHjemmeplejen kommer på besøg "
        "tirsdag kl. 10.\n\nVenlig hilsen\nKøbenhavns Kommune",
        False,
    ),
]

# A tiny valid PDF, so the demo letter has an attachment to download.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_joint_attorneys(people: dict[str, User]) -> None:
    """Inge appoints Hans and Mette to act together on her municipality applications; Hans has
    applied for home care for her, and it waits, unseen by the municipality, for Mette's approval."""
    from attorney.models import JointAppointment, JointMode

    inge, hans, mette = people["inge@example.dk"], people["hans@example.dk"], people["mette@example.dk"]
    appointment = JointAppointment.objects.filter(grantor=inge).first()
    if appointment is None:
        now = timezone.now()
        appointment = attorney_services.grant_joint_power_of_attorney(
            acting_user=inge,
            attorneys=[(hans.national_id, hans.name), (mette.national_id, mette.name)],
            mode=JointMode.JOINTLY,
            rights=_rights("kobenhavns-kommune.apply_home_care", "kobenhavns-kommune.read_mail"),
            valid_from=now,
            valid_until=now + datetime.timedelta(days=365 * 3),
        )
    for mandate in appointment.mandates.filter(status=Status.PENDING).select_related("attorney"):
        attorney_services.accept(power_of_attorney=mandate, acting_user=mandate.attorney)
    home_care = Service.objects.get(authority__slug="kobenhavns-kommune", slug="hjemmehjaelp")
    if not Application.objects.filter(on_behalf_of=inge, service=home_care).exists():
        applications_services.submit_application(
            acting_user=hans,
            principal=inge,
            service=home_care,
            description="Mor har brug for hjælp til bad og indkøb to gange om ugen efter sin hofteoperation.",
            date_value=timezone.localdate() + datetime.timedelta(days=14),
        )


def seed_application_forms() -> None:
    for authority_slug, service_slug, right_code, kind, label_da, label_en in APPLICATION_FORMS:
        ApplicationForm.objects.update_or_create(
            service=Service.objects.get(authority__slug=authority_slug, slug=service_slug),
            defaults={
                "right": Right.objects.get(code=right_code),
                "value_kind": kind,
                "value_label_da": label_da,
                "value_label_en": label_en,
            },
        )


def seed_letters_and_applications(people: dict[str, User]) -> None:
    karen = people["karen@example.dk"]
    for slug, subject, body, with_attachment in LETTERS:
        if Letter.objects.filter(citizen_file__citizen=karen, subject=subject).exists():
            continue
        post_services.send_letter(
            authority=Authority.objects.get(slug=slug),
            citizen=karen,
            subject=subject,
            body=body,
            attachment=ContentFile(DEMO_PDF, name="aarsopgoerelse-2025.pdf") if with_attachment else None,
        )
    pension = Service.objects.get(authority__slug="udbetaling-danmark", slug="folkepension")
    if not Application.objects.filter(on_behalf_of=karen, service=pension).exists():
        application = applications_services.submit_application(
            acting_user=karen,
            principal=karen,
            service=pension,
            description="Jeg søger om helbredstillæg til medicin.",
            amount=800,
        )
        applications_services.decide_application(
            application=application,
            acting_user=people["sagsbehandler.ud@example.dk"],
            status=ApplicationStatus.IN_REVIEW,
        )


def seed_legal_representation_rights() -> None:
    for code, (matters, for_custodians) in LEGAL_REPRESENTATION_RIGHTS.items():
        Right.objects.filter(code=code).update(matters=matters, for_custodians=for_custodians)


REPRESENTED_LETTERS = [
    (
        "emma@example.dk",
        "kobenhavns-kommune",
        "Plads i fritidsklubben fra 1. februar",
        "Kære Emma Jensen\n\nDu har fået plads i fritidsklubben fra 1. februar. "
        "Dine forældre kan se brevet her i Digital Post.\n\nVenlig hilsen\nKøbenhavns Kommune",
    ),
    (
        "emma@example.dk",
        "skat",
        "Dit skattekort til dit fritidsjob",
        "Kære Emma Jensen\n\nDu har fået et skattekort, så du kan tjene penge i dit fritidsjob "
        "uden at betale for meget i skat.\n\nVenlig hilsen\nSkattestyrelsen",
    ),
    (
        "bent@example.dk",
        "skat",
        "Din årsopgørelse for 2025 er klar",
        "Kære Bent Olsen\n\nDin årsopgørelse for 2025 er klar. Du får 2.430 kr. tilbage i skat."
        "\n\nVenlig hilsen\nSkattestyrelsen",
    ),
    (
        "bent@example.dk",
        "kobenhavns-kommune",
        "Visitation til hjemmehjælp",
        "Kære Bent Olsen\n\nVi kommer på besøg for at tale om din hjemmehjælp.\n\n"
        "Venlig hilsen\nKøbenhavns Kommune",
    ),
]


def seed_legal_representatives(people: dict[str, User]) -> None:
    """Emma's custody and Bent's guardianship come from the sample register extract, through the
    real import; running it again changes nothing."""
    call_command("import_register", str(DEMO_REGISTER_EXTRACT), stdout=io.StringIO(), stderr=io.StringIO())
    for email, slug, subject, body in REPRESENTED_LETTERS:
        if Letter.objects.filter(citizen_file__citizen=people[email], subject=subject).exists():
            continue
        post_services.send_letter(
            authority=Authority.objects.get(slug=slug), citizen=people[email], subject=subject, body=body
        )


def _token_hash(token: str) -> str:
    from authorities.clients.tokens import hash_token

    return hash_token(token)


def seed_api_client() -> None:
    for token, slug, name in (
        (DEMO_API_TOKEN, "skat", "Demo: Skattestyrelsens sagssystem"),
        (DEMO_UD_API_TOKEN, "udbetaling-danmark", "Demo: Udbetaling Danmarks sagssystem"),
    ):
        ApiClient.objects.get_or_create(
            token_hash=_token_hash(token),
            defaults={
                "authority": Authority.objects.get(slug=slug),
                "name": name,
                "token_prefix": token[:12],
            },
        )


def seed_demo() -> dict[str, User]:
    # Every step is a service with its own transaction, and each is idempotent: a run that stops
    # half-way is completed by running it again.
    seed_catalogue()
    seed_consent_catalogue()
    seed_legal_representation_rights()
    seed_application_forms()
    people = seed_people()
    seed_powers_of_attorney(people)
    seed_organisation(people)
    seed_letters_and_applications(people)
    seed_joint_attorneys(people)
    seed_legal_representatives(people)
    seed_consents(people)
    seed_emergency_request(people)
    seed_api_client()
    seed_data_uses(people)
    return people
