"""Property-based test of organisations as attorneys.

Two organisations, two citizens and four people who work in the organisations. Hypothesis draws
random sequences of: a citizen giving an organisation a power of attorney, an administrator (or the
wrong person) accepting, declining or resigning it, administrators giving members access to one
mandate or to all and taking it away, members leaving (or being removed) and joining again, the
citizen revoking, a citizen giving a member a power of attorney of their own, and time passing with
or without the expiry job. A small model predicts what each service call must do. After every step:

(a) the policy agrees with the model on every path: ``authorize`` in the portal (fast path and from
    history), ``authorize_by_cpr`` without an organisation (a member's own mandates only) and on
    behalf of each organisation (that organisation's mandates only, used with access), with
    ``no_organisation_access`` exactly when a member could have used a mandate but has no access;
    and the act-for lists (``principals_in_force``, ``rights_in_force``) name the same people,
    rights and organisations;
(b) guardian's rows are the projection of the same: visible (``objects``, ``user.has_perm``,
    ``get_objects_for_user``) exactly for a member with current access to a mandate in force, and
    no row at all for a mandate no member may use;
(c) a refused call raises and changes nothing (mandates, access, memberships, rows, audit trail,
    notices, emails).
"""

import dataclasses
import datetime
from functools import partial

import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user
from hypothesis import HealthCheck, Phase, event, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from attorney import policy
from attorney import services as attorney_services
from attorney.models import OrganisationAccess, PowerOfAttorney, Status
from authorities.models import CitizenFile, CitizenFileUserObjectPermission, Right
from organisations import services as organisation_services
from organisations.models import Membership, Organisation, Role
from portal.models import AuditEvent, Notice, OutboundEmail, User

from ..factories import AuthorityFactory, RightFactory, ServiceFactory, UserFactory

START = datetime.datetime(2031, 3, 3, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
OPEN = (Status.PENDING, Status.ACTIVE)

# The people, by index: two citizens who give powers of attorney, the administrators of the two
# organisations, and two employees (E0 in X; E1 in X and Y).
G0, G1, ADMIN_X, ADMIN_Y, E0, E1 = range(6)
GRANTORS = (G0, G1)
WORKERS = (ADMIN_X, ADMIN_Y, E0, E1)
ORGANISATIONS = (("12345674", "Revisorhuset A/S"), ("23456788", "Advokatfirmaet Lund ApS"))
ADMINISTRATOR = {0: ADMIN_X, 1: ADMIN_Y}
FIRST_MEMBERS = {0: (E0, E1), 1: (E1,)}
# Every decision is asked about these rights after each step: one of each authority (the third, of
# the same authority as the first, is in the rows, the act-for lists and guardian's read paths).
DECIDED_RIGHTS = (0, 2)


# --- Actions ------------------------------------------------------------------------------------
# ``mandate`` and ``access`` are indexes into those made so far, modulo their number.


@dataclasses.dataclass(frozen=True)
class GrantToOrganisation:
    grantor: int
    organisation: int
    rights: tuple[int, ...]
    length: datetime.timedelta


@dataclasses.dataclass(frozen=True)
class Answer:
    """An administrator of the mandate's organisation (or the wrong person) accepts or declines."""

    mandate: int
    who: str  # "administrator", "member" (of the organisation, not an administrator), "other"
    accept: bool


@dataclasses.dataclass(frozen=True)
class Revoke:
    mandate: int
    by_grantor: bool


@dataclasses.dataclass(frozen=True)
class Resign:
    mandate: int


@dataclasses.dataclass(frozen=True)
class GiveAccess:
    """Access to one of the organisation's mandates, or (``mandate`` None) to all of them; now and
    then to a mandate of the other organisation (``foreign``), which is refused."""

    member: int
    organisation: int
    mandate: int | None
    by_administrator: bool
    foreign: bool = False


@dataclasses.dataclass(frozen=True)
class RemoveAccess:
    """Take away an access still open, or (``any_access``) any access given so far."""

    access: int
    by_administrator: bool
    any_access: bool = False


@dataclasses.dataclass(frozen=True)
class Leave:
    member: int
    organisation: int
    removed_by_administrator: bool


@dataclasses.dataclass(frozen=True)
class Join:
    member: int
    organisation: int


@dataclasses.dataclass(frozen=True)
class GrantToMember:
    """A citizen gives a member a power of attorney of their own, accepted at once."""

    grantor: int
    attorney: int
    rights: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class RevokeOwn:
    mandate: int


@dataclasses.dataclass(frozen=True)
class PassTime:
    delta: datetime.timedelta
    expire: bool


rights_subset = st.sampled_from([(0,), (0, 1), (2,), (1,), (0, 2), (0, 1, 2), ()])
index = st.integers(-2, 7)
organisation = st.integers(0, 1)
worker = st.sampled_from(WORKERS)
employee = st.sampled_from((E0, E1, E0, E1, ADMIN_X, ADMIN_Y))

actions = st.one_of(
    st.builds(
        GrantToOrganisation,
        st.sampled_from(GRANTORS),
        organisation,
        rights_subset,
        st.sampled_from([30 * DAY, DAY]),
    ),
    st.builds(
        Answer, index, st.sampled_from(["administrator", "administrator", "member", "other"]), st.booleans()
    ),
    st.builds(Answer, index, st.just("administrator"), st.just(True)),
    st.builds(
        GiveAccess,
        employee,
        organisation,
        st.one_of(st.none(), index, index),
        st.sampled_from([True, True, True, False]),
        st.sampled_from([False, False, False, True]),
    ),
    st.builds(GiveAccess, employee, organisation, index, st.just(True)),
    st.builds(RemoveAccess, index, st.sampled_from([True, True, False]), st.booleans()),
    st.builds(Leave, employee, organisation, st.booleans()),
    st.builds(Join, employee, organisation),
    st.builds(Revoke, index, st.sampled_from([True, True, False])),
    st.builds(Resign, index),
    st.builds(GrantToMember, st.sampled_from(GRANTORS), worker, rights_subset.filter(bool)),
    st.builds(RevokeOwn, index),
    st.builds(PassTime, st.sampled_from([HOUR, DAY, 31 * DAY]), st.booleans()),
)


def _opening(grant: GrantToOrganisation, accept: bool, access_for: int | None) -> list:
    steps = [grant]
    if accept:
        steps.append(Answer(-1, "administrator", True))
    if access_for is not None:
        steps.append(GiveAccess(access_for, grant.organisation, -1, by_administrator=True))
    return steps


# A few grants, most of them accepted at once and some used by a member, so the random actions have
# mandates and access to work on.
openings = st.lists(
    st.builds(
        _opening,
        st.builds(
            GrantToOrganisation,
            st.sampled_from(GRANTORS),
            organisation,
            rights_subset.filter(bool),
            st.just(30 * DAY),
        ),
        st.booleans(),
        st.sampled_from([None, E0, E1]),
    ),
    min_size=1,
    max_size=3,
).map(lambda openings: [step for steps in openings for step in steps])
scenarios = st.tuples(openings, st.lists(actions, min_size=3, max_size=9)).map(
    lambda parts: parts[0] + parts[1]
)


# --- The model ----------------------------------------------------------------------------------


@dataclasses.dataclass
class ModelMandate:
    pk: object
    grantor: int
    organisation: int | None  # None: a person's own mandate (``attorney``)
    attorney: int | None
    rights: frozenset[int]
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    status: str

    def in_force(self, now) -> bool:
        return self.status == Status.ACTIVE and self.valid_from <= now < self.valid_until


@dataclasses.dataclass
class ModelAccess:
    pk: object
    membership: object
    member: int
    organisation: int
    mandate: object | None  # a mandate's pk, or None for all
    removed: bool = False


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class OrganisationsAsAttorneysTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        people = [UserFactory(email=f"person{n}@organisations.example") for n in range(6)]
        cls.user_pks = [person.pk for person in people]
        skat = AuthorityFactory(slug="skat")
        kommune = AuthorityFactory(slug="kobenhavns-kommune")
        cls.right_pks = [
            RightFactory(
                service=ServiceFactory(authority=skat, slug="digital-post"), code="skat.read_mail"
            ).pk,
            RightFactory(
                service=ServiceFactory(authority=skat, slug="aarsopgoerelse"), code="skat.view_tax_assessment"
            ).pk,
            RightFactory(
                service=ServiceFactory(authority=kommune, slug="digital-post"),
                code="kobenhavns-kommune.read_mail",
            ).pk,
        ]
        registrar = UserFactory(national_id=None, is_staff=True)
        registrar.user_permissions.add(Permission.objects.get(codename="add_organisation"))
        cls.organisation_pks, cls.first_memberships = [], {}
        for number, (cvr, name) in enumerate(ORGANISATIONS):
            administrator = people[ADMINISTRATOR[number]]
            organisation, code = organisation_services.register_organisation(
                acting_user=registrar,
                cvr=cvr,
                name=name,
                administrator_national_id=administrator.national_id,
                administrator_name=administrator.name,
                administrator_email=administrator.email,
            )
            cls.organisation_pks.append(organisation.pk)
            membership = organisation_services.join_organisation(acting_user=administrator, code=code)
            cls.first_memberships[(ADMINISTRATOR[number], number)] = membership.pk
            for member in FIRST_MEMBERS[number]:
                _invitation, code = organisation_services.invite_member(
                    acting_user=administrator,
                    organisation=organisation,
                    name=people[member].name,
                    email=people[member].email,
                )
                membership = organisation_services.join_organisation(acting_user=people[member], code=code)
                cls.first_memberships[(member, number)] = membership.pk

    # -- helpers -------------------------------------------------------------------------------------

    def _load(self):
        users = {user.pk: user for user in User.objects.filter(pk__in=self.user_pks)}
        self.users = [users[pk] for pk in self.user_pks]
        rights = {r.pk: r for r in Right.objects.select_related("service__authority", "permission")}
        self.rights = [rights[pk] for pk in self.right_pks]
        organisations = Organisation.objects.in_bulk(self.organisation_pks)
        self.organisations = [organisations[pk] for pk in self.organisation_pks]
        self.mandates: list[ModelMandate] = []
        self.accesses: list[ModelAccess] = []
        # (member, organisation) -> their current membership's pk, or None once they left
        self.memberships: dict[tuple[int, int], object] = dict(self.first_memberships)

    def _pick(self, items: list, number: int):
        return items[number % len(items)] if items else None

    def _organisation_mandates(self) -> list[ModelMandate]:
        return [m for m in self.mandates if m.organisation is not None]

    def _own_mandates(self) -> list[ModelMandate]:
        return [m for m in self.mandates if m.organisation is None]

    def _is_member(self, person: int, organisation: int) -> bool:
        return self.memberships.get((person, organisation)) is not None

    def _usable(self, person: int, mandate: ModelMandate) -> bool:
        """The person may use the organisation's mandate: a current member with current access."""
        membership = self.memberships.get((person, mandate.organisation))
        return membership is not None and any(
            not a.removed and a.membership == membership and a.mandate in (None, mandate.pk)
            for a in self.accesses
        )

    def _snapshot(self):
        return (
            list(
                PowerOfAttorney.objects.order_by("pk").values_list("pk", "status", "activated_at", "ended_at")
            ),
            list(OrganisationAccess.objects.order_by("pk").values_list("pk", "removed_at")),
            list(Membership.objects.order_by("pk").values_list("pk", "joined_at", "left_at", "role")),
            list(
                CitizenFileUserObjectPermission.all_rows.order_by("pk").values_list(
                    "pk", "user_id", "permission_id", "content_object_id", "power_of_attorney_id"
                )
            ),
            AuditEvent.objects.count(),
            Notice.objects.count(),
            OutboundEmail.objects.count(),
        )

    def _refused(self, call) -> str:
        before = self._snapshot()
        with self.assertRaises((ValidationError, PermissionDenied)):
            call()
        self.assertEqual(self._snapshot(), before, "a refused call changed something")
        return "refused"

    def _expire(self) -> None:
        attorney_services.expire_due()
        now = timezone.now()
        for m in self.mandates:
            if m.status in OPEN and m.valid_until <= now:
                m.status = Status.EXPIRED

    # -- one step ------------------------------------------------------------------------------------

    def _apply(self, action) -> str:  # noqa: C901 – one branch per action, as the model reads best
        now = timezone.now()
        users = self.users

        if isinstance(action, PassTime):
            self.traveller.shift(action.delta)
            if action.expire:
                self._expire()
            return "time passed"

        if isinstance(action, GrantToOrganisation):
            rights = frozenset(action.rights)
            organisation = self.organisations[action.organisation]
            refused = not rights or any(
                m.grantor == action.grantor
                and m.organisation == action.organisation
                and m.status in OPEN
                and m.rights == rights
                for m in self.mandates
            )

            def call():
                return attorney_services.grant_power_of_attorney_to_organisation(
                    acting_user=users[action.grantor],
                    cvr=organisation.cvr,
                    organisation_name=organisation.name,
                    rights=[self.rights[i] for i in sorted(rights)],
                    valid_from=now,
                    valid_until=now + action.length,
                )

            if refused:
                return self._refused(call)
            mandate = call()
            self.mandates.append(
                ModelMandate(
                    mandate.pk,
                    action.grantor,
                    action.organisation,
                    None,
                    rights,
                    now,
                    now + action.length,
                    Status.PENDING,
                )
            )
            return "granted to an organisation"

        if isinstance(action, GrantToMember):
            rights = frozenset(action.rights)
            if any(
                m.grantor == action.grantor
                and m.attorney == action.attorney
                and m.status in OPEN
                and m.rights == rights
                for m in self.mandates
            ):
                return "the same own mandate is open already"
            attorney = users[action.attorney]
            mandate = attorney_services.grant_power_of_attorney(
                acting_user=users[action.grantor],
                attorney_national_id=attorney.national_id,
                attorney_name=attorney.name,
                rights=[self.rights[i] for i in sorted(rights)],
                valid_from=now,
                valid_until=now + 30 * DAY,
            )
            attorney_services.accept(power_of_attorney=mandate, acting_user=attorney)
            self.mandates.append(
                ModelMandate(
                    mandate.pk,
                    action.grantor,
                    None,
                    action.attorney,
                    rights,
                    now,
                    now + 30 * DAY,
                    Status.ACTIVE,
                )
            )
            return "granted to a member as a person"

        if isinstance(action, RevokeOwn):
            mandate = self._pick(self._own_mandates(), action.mandate)
            if mandate is None or mandate.status not in OPEN:
                return "no own mandate to revoke"
            attorney_services.revoke(
                power_of_attorney=PowerOfAttorney.objects.get(pk=mandate.pk),
                acting_user=users[mandate.grantor],
            )
            mandate.status = Status.REVOKED
            return "own mandate revoked"

        if isinstance(action, Join):
            if self._is_member(action.member, action.organisation):
                return "a member already"
            administrator = users[ADMINISTRATOR[action.organisation]]
            person = users[action.member]
            _invitation, code = organisation_services.invite_member(
                acting_user=administrator,
                organisation=self.organisations[action.organisation],
                name=person.name,
                email=person.email,
                role=Role.EMPLOYEE,
            )
            membership = organisation_services.join_organisation(acting_user=person, code=code)
            self.memberships[(action.member, action.organisation)] = membership.pk
            return "joined"

        if isinstance(action, Leave):
            membership_pk = self.memberships.get((action.member, action.organisation))
            if membership_pk is None:
                return "not a member"
            membership = Membership.objects.get(pk=membership_pk)
            acting = users[
                ADMINISTRATOR[action.organisation] if action.removed_by_administrator else action.member
            ]
            # The last administrator cannot leave (each organisation has one, who never leaves).
            refused = action.member == ADMINISTRATOR[action.organisation]
            call = partial(organisation_services.end_membership, acting_user=acting, membership=membership)
            if refused:
                return self._refused(call)
            call()
            self.memberships[(action.member, action.organisation)] = None
            for access in self.accesses:
                if access.membership == membership_pk:
                    access.removed = True
            return "left"

        if isinstance(action, GiveAccess):
            mandate = None
            if action.mandate is not None:
                mandate = self._pick(self._organisation_mandates(), action.mandate)
                if mandate is None:
                    return "no organisation mandate yet"
                action = dataclasses.replace(action, organisation=mandate.organisation ^ action.foreign)
            membership_pk = self.memberships.get((action.member, action.organisation))
            if membership_pk is None:
                # A former member: any of their ended memberships is refused alike.
                membership_pk = (
                    Membership.objects.filter(
                        user=users[action.member], organisation=self.organisations[action.organisation]
                    )
                    .values_list("pk", flat=True)
                    .first()
                )
            if membership_pk is None:
                return "never a member"
            membership = Membership.objects.get(pk=membership_pk)
            administrator = ADMINISTRATOR[action.organisation]
            acting = users[administrator if action.by_administrator else action.member]
            open_access = [a for a in self.accesses if a.membership == membership_pk and not a.removed]
            allowed = (
                (action.by_administrator or action.member == administrator)
                and self._is_member(action.member, action.organisation)
                and not any(a.mandate is None for a in open_access)
                and (
                    mandate is None
                    or (
                        mandate.organisation == action.organisation
                        and mandate.status in OPEN
                        and not any(a.mandate == mandate.pk for a in open_access)
                    )
                )
            )

            def call():
                return attorney_services.give_organisation_access(
                    acting_user=acting,
                    membership=membership,
                    power_of_attorney=PowerOfAttorney.objects.get(pk=mandate.pk) if mandate else None,
                )

            if not allowed:
                return self._refused(call)
            access = call()
            if mandate is None:
                for other in open_access:
                    other.removed = True
            self.accesses.append(
                ModelAccess(
                    access.pk,
                    membership_pk,
                    action.member,
                    action.organisation,
                    mandate.pk if mandate else None,
                )
            )
            return "access given to all" if mandate is None else "access given to one"

        if isinstance(action, RemoveAccess):
            candidates = [a for a in self.accesses if action.any_access or not a.removed]
            access = self._pick(candidates, action.access)
            if access is None:
                return "no access yet"
            administrator = ADMINISTRATOR[access.organisation]
            acting = users[administrator if action.by_administrator else access.member]
            allowed = (
                (action.by_administrator or access.member == administrator)
                and not access.removed
                and self.memberships.get((access.member, access.organisation)) == access.membership
            )
            call = partial(
                attorney_services.remove_organisation_access,
                acting_user=acting,
                access=OrganisationAccess.objects.get(pk=access.pk),
            )
            if not allowed:
                return self._refused(call)
            call()
            access.removed = True
            return "access removed"

        mandate = self._pick(self._organisation_mandates(), action.mandate)
        if mandate is None:
            return "no organisation mandate yet"
        db_mandate = PowerOfAttorney.objects.get(pk=mandate.pk)
        administrator = ADMINISTRATOR[mandate.organisation]

        if isinstance(action, Answer):
            if action.who == "administrator":
                person = administrator
            elif action.who == "member":
                person = E1 if mandate.organisation == 1 else E0
            else:
                person = ADMINISTRATOR[1 - mandate.organisation]
            allowed = person == administrator and mandate.status == Status.PENDING
            if action.accept:
                allowed = allowed and mandate.valid_until > now
                call = partial(
                    attorney_services.accept, power_of_attorney=db_mandate, acting_user=users[person]
                )
            else:
                call = partial(
                    attorney_services.decline, power_of_attorney=db_mandate, acting_user=users[person]
                )
            if not allowed:
                return self._refused(call)
            call()
            mandate.status = Status.ACTIVE if action.accept else Status.DECLINED
            return "accepted" if action.accept else "declined"

        if isinstance(action, Revoke):
            person = mandate.grantor if action.by_grantor else administrator
            allowed = action.by_grantor and mandate.status in OPEN
            call = partial(attorney_services.revoke, power_of_attorney=db_mandate, acting_user=users[person])
            if not allowed:
                return self._refused(call)
            call()
            mandate.status = Status.REVOKED
            return "revoked"

        if isinstance(action, Resign):
            call = partial(
                attorney_services.resign, power_of_attorney=db_mandate, acting_user=users[administrator]
            )
            if mandate.status != Status.ACTIVE:
                return self._refused(call)
            call()
            mandate.status = Status.RESIGNED
            return "resigned"

        raise AssertionError(f"unknown action {action!r}")

    # -- invariants ----------------------------------------------------------------------------------

    def _check(self) -> None:
        now = timezone.now()
        users, rights = self.users, self.rights
        self.assertEqual(
            dict(PowerOfAttorney.objects.values_list("pk", "status")),
            {m.pk: m.status for m in self.mandates},
            "statuses",
        )
        self.assertEqual(
            set(OrganisationAccess.objects.current().values_list("pk", flat=True)),
            {a.pk for a in self.accesses if not a.removed},
            "current access",
        )
        fingerprint = (
            now,
            tuple((m.pk, m.status) for m in self.mandates),
            tuple((a.pk, a.removed) for a in self.accesses),
            tuple(sorted(self.memberships.items(), key=str)),
        )
        if fingerprint == self.checked:
            return  # nothing the answers depend on has changed
        self.checked = fingerprint

        # What the model allows now: by a member's own mandates, and through each organisation.
        own = {(m.attorney, m.grantor, r) for m in self._own_mandates() if m.in_force(now) for r in m.rights}
        through = {
            (person, m.grantor, r, m.organisation)
            for m in self._organisation_mandates()
            if m.in_force(now)
            for person in WORKERS
            if self._usable(person, m)
            for r in m.rights
        }
        blocked = {
            (person, m.grantor, r, m.organisation)
            for m in self._organisation_mandates()
            if m.in_force(now)
            for person in WORKERS
            if self._is_member(person, m.organisation)
            for r in m.rights
        } - through

        # (b) the guardian rows: visible exactly for what is in force and usable; none at all for a
        # mandate that is not active or for a member who may not use it.
        file_objects = {f.pk: f for f in CitizenFile.objects.all()}
        files = {(f.citizen_id, f.authority_id): f.pk for f in file_objects.values()}

        def row(m: ModelMandate, person: int, r: int) -> tuple:
            right = rights[r]
            return (
                m.pk,
                users[person].pk,
                right.permission_id,
                files[(users[m.grantor].pk, right.service.authority_id)],
            )

        visible = {row(m, m.attorney, r) for m in self._own_mandates() if m.in_force(now) for r in m.rights}
        visible |= {
            row(m, person, r)
            for m in self._organisation_mandates()
            if m.in_force(now)
            for person in WORKERS
            if self._usable(person, m)
            for r in m.rights
        }
        possible = {
            row(m, person, r)
            for m in self._organisation_mandates()
            if m.status == Status.ACTIVE
            for person in WORKERS
            if self._usable(person, m)
            for r in m.rights
        } | {
            row(m, m.attorney, r) for m in self._own_mandates() if m.status == Status.ACTIVE for r in m.rights
        }
        fields = ("power_of_attorney_id", "user_id", "permission_id", "content_object_id")
        self.assertEqual(
            set(CitizenFileUserObjectPermission.objects.values_list(*fields)), visible, "visible rows"
        )
        all_rows = list(CitizenFileUserObjectPermission.all_rows.values_list(*fields))
        self.assertEqual(len(all_rows), len(set(all_rows)), "a row twice")
        self.assertLessEqual(set(all_rows), possible, "a row for a mandate nobody may use")
        self.assertLessEqual(visible, set(all_rows))

        # (a) every entry point of the policy.
        for a in WORKERS:
            actor = User.objects.get(pk=users[a].pk)  # no permissions cached from earlier checks
            for g in GRANTORS:
                principal = users[g]
                for r in DECIDED_RIGHTS:
                    right = rights[r]
                    where = f"user {a} for user {g}, {right.code}"
                    organisations = {o for o in (0, 1) if (a, g, r, o) in through}
                    expected = (a, g, r) in own or bool(organisations)
                    decision = policy.authorize(actor=actor, principal=principal, right=right)
                    self.assertEqual(decision.permitted, expected, f"authorize: {where}")
                    if decision.permitted and (a, g, r) not in own:
                        self.assertIn(
                            decision.organisation_id, {self.organisation_pks[o] for o in organisations}
                        )
                    if decision.reason == policy.Reason.NO_ORGANISATION_ACCESS:
                        self.assertTrue(
                            any((a, g, r, o) in blocked for o in (0, 1)), f"no access said wrongly: {where}"
                        )
                    self.assertEqual(
                        policy.authorize(actor=actor, principal=principal, right=right, at=now).permitted,
                        expected,
                        f"authorize from history: {where}",
                    )
                    alone = policy.authorize_by_cpr(
                        actor_national_id=actor.national_id,
                        principal_national_id=principal.national_id,
                        right=right,
                    )
                    self.assertEqual(alone.permitted, (a, g, r) in own, f"authorize_by_cpr alone: {where}")
                    for o, organisation in enumerate(self.organisations):
                        decision = policy.authorize_by_cpr(
                            actor_national_id=actor.national_id,
                            principal_national_id=principal.national_id,
                            right=right,
                            organisation_cvr=organisation.cvr,
                        )
                        behalf = f"{where}, on behalf of organisation {o}"
                        self.assertEqual(
                            decision.permitted, (a, g, r, o) in through, f"authorize_by_cpr: {behalf}"
                        )
                        self.assertEqual(
                            decision.reason == policy.Reason.NO_ORGANISATION_ACCESS,
                            (a, g, r, o) in blocked,
                            f"no_organisation_access: {behalf} ({decision.reason})",
                        )
                        if decision.permitted:
                            self.assertEqual(decision.organisation_id, organisation.pk)
                        self.assertEqual(
                            policy.authorize(
                                actor=actor,
                                principal=principal,
                                right=right,
                                at=now,
                                organisation=organisation,
                            ).permitted,
                            (a, g, r, o) in through,
                            f"authorize from history: {behalf}",
                        )
                    citizen_file = files.get((principal.pk, right.service.authority_id))
                    has_perm = citizen_file is not None and actor.has_perm(
                        f"authorities.{right.permission_codename}", file_objects[citizen_file]
                    )
                    self.assertEqual(has_perm, expected, f"has_perm: {where}")

            # guardian's other read path, over all files at once.
            for r, right in enumerate(rights):
                self.assertEqual(
                    set(
                        get_objects_for_user(
                            actor,
                            f"authorities.{right.permission_codename}",
                            klass=CitizenFile,
                            accept_global_perms=False,
                        ).values_list("pk", flat=True)
                    ),
                    {
                        files[(users[g].pk, right.service.authority_id)]
                        for g in GRANTORS
                        if (a, g, r) in own or any((a, g, r, o) in through for o in (0, 1))
                    },
                    f"get_objects_for_user: user {a}, {right.code}",
                )

            # The act-for lists: whom, with which rights, through which organisations.
            found = {p.person.pk: p for p in policy.principals_in_force(actor=actor)}
            wanted = {
                users[g].pk: g
                for g in GRANTORS
                if any((a, g, r) in own or any((a, g, r, o) in through for o in (0, 1)) for r in range(3))
            }
            self.assertEqual(set(found), set(wanted), f"principals_in_force: user {a}")
            for pk, g in wanted.items():
                self.assertEqual(
                    {o.pk for o in found[pk].organisations},
                    {
                        self.organisation_pks[m.organisation]
                        for m in self._organisation_mandates()
                        if m.grantor == g and m.in_force(now) and self._usable(a, m)
                    },
                    f"organisations acted through: user {a} for user {g}",
                )
                self.assertEqual(
                    {right.pk for right in policy.rights_in_force(actor=actor, principal=users[g])},
                    {
                        rights[r].pk
                        for r in range(3)
                        if (a, g, r) in own or any((a, g, r, o) in through for o in (0, 1))
                    },
                    f"rights_in_force: user {a} for user {g}",
                )

    # -- the property --------------------------------------------------------------------------------

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,  # no .hypothesis directory in the project
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @example(
        steps=[
            # Access given before the mandate is accepted counts once it is; access to all covers a
            # mandate accepted later; leaving ends both; joining again gives nothing back.
            GrantToOrganisation(G0, 0, (0, 1), 30 * DAY),
            GiveAccess(E0, 0, -1, by_administrator=True),
            GiveAccess(E1, 0, -1, by_administrator=True, foreign=True),
            Answer(-1, "administrator", accept=True),
            GiveAccess(E1, 0, None, by_administrator=True),
            GrantToOrganisation(G1, 0, (0,), 30 * DAY),
            Answer(-1, "administrator", accept=True),
            GrantToMember(G0, E1, (2,)),
            Leave(E1, 0, removed_by_administrator=False),
            Join(E1, 0),
            PassTime(31 * DAY, expire=False),
        ]
    )
    @example(
        steps=[
            # Access to all replaces access to one; taking it away stops the member; the expiry job.
            GrantToOrganisation(G1, 1, (0, 2), DAY),
            Answer(-1, "administrator", accept=True),
            GiveAccess(E1, 1, -1, by_administrator=True),
            GiveAccess(E1, 1, None, by_administrator=True),
            RemoveAccess(-1, by_administrator=False),
            RemoveAccess(-1, by_administrator=True),
            GiveAccess(E1, 1, None, by_administrator=True),
            GrantToMember(G1, E1, (0,)),
            PassTime(DAY, expire=True),
        ]
    )
    @given(steps=scenarios)
    def test_random_histories_keep_policy_rows_and_model_in_agreement(self, steps):
        self._load()
        self.checked = None
        with time_machine.travel(START, tick=False) as traveller:
            self.traveller = traveller
            self._check()
            for number, action in enumerate(steps, 1):
                note(f"step {number} at {timezone.now().isoformat()}: {action}")
                with self.captureOnCommitCallbacks(execute=True):
                    outcome = self._apply(action)
                note(f"    -> {outcome}")
                event(f"{type(action).__name__}: {outcome}")
                self._check()
