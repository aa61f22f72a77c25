"""An organisation's members act for its clients through the one policy, with the access given."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import PowerOfAttorney
from attorney.policy import Reason, authorize, authorize_by_cpr, principals_in_force
from authorities.catalogue.models import CitizenFileUserObjectPermission
from organisations import services
from organisations.models import Role

from ..factories import UserFactory
from .conftest import REVISOR_CVR

pytestmark = pytest.mark.django_db


def test_member_without_access_may_not_act(client_mandate, bo_member, bo, karen, read_mail):
    decision = authorize(actor=bo, principal=karen, right=read_mail)
    assert not decision.permitted
    assert decision.reason == Reason.NO_ORGANISATION_ACCESS


def test_member_with_access_to_the_mandate_acts_for_the_client(
    client_mandate, bo_member, anne, bo, karen, read_mail
):
    attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )
    decision = authorize(actor=bo, principal=karen, right=read_mail)
    assert decision.permitted
    assert decision.reason == Reason.POWER_OF_ATTORNEY
    assert decision.organisation_id == client_mandate.organisation_id


def test_access_to_all_covers_mandates_accepted_later(revisorhuset, bo_member, anne, bo, karen, read_mail):
    from .conftest import grant_to_organisation

    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    mandate = grant_to_organisation(karen, [read_mail])
    attorney_services.accept(power_of_attorney=mandate, acting_user=anne)
    assert authorize(actor=bo, principal=karen, right=read_mail).permitted


def test_removing_access_stops_the_member_at_once(client_mandate, bo_member, anne, bo, karen, read_mail):
    access = attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )
    attorney_services.remove_organisation_access(acting_user=anne, access=access)
    assert authorize(actor=bo, principal=karen, right=read_mail).reason == Reason.NO_ORGANISATION_ACCESS


def test_a_member_who_leaves_loses_access_at_once(client_mandate, bo_member, anne, bo, karen, read_mail):
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    services.end_membership(acting_user=anne, membership=bo_member)
    decision = authorize(actor=bo, principal=karen, right=read_mail)
    assert not decision.permitted
    assert decision.reason == Reason.NO_POWER_OF_ATTORNEY


def test_revoking_ends_every_members_access(client_mandate, bo_member, anne, bo, karen, read_mail):
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    attorney_services.revoke(power_of_attorney=client_mandate, acting_user=karen)
    assert authorize(actor=bo, principal=karen, right=read_mail).reason == Reason.REVOKED


def test_the_organisations_mandate_is_not_the_members_own_towards_the_api(
    client_mandate, bo_member, anne, bo, karen, read_mail
):
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    alone = authorize_by_cpr(
        actor_national_id=bo.national_id, principal_national_id=karen.national_id, right=read_mail
    )
    through = authorize_by_cpr(
        actor_national_id=bo.national_id,
        principal_national_id=karen.national_id,
        right=read_mail,
        organisation_cvr=REVISOR_CVR,
    )
    assert (alone.permitted, through.permitted) == (False, True)


def test_history_knows_who_had_access_when(client_mandate, bo_member, anne, bo, karen, read_mail):
    access = attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )
    during = timezone.now()
    attorney_services.remove_organisation_access(acting_user=anne, access=access)
    assert authorize(actor=bo, principal=karen, right=read_mail, at=during).permitted
    later = timezone.now() + datetime.timedelta(seconds=1)
    assert not authorize(actor=bo, principal=karen, right=read_mail, at=later).permitted


def test_the_act_for_list_names_the_organisation(client_mandate, bo_member, anne, bo, karen, read_mail):
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    [found] = principals_in_force(actor=bo)
    assert found.person == karen
    assert [o.cvr for o in found.organisations] == [REVISOR_CVR]


def _accepted_clients(count, anne, rights):
    from .conftest import grant_to_organisation

    for _ in range(count):
        attorney_services.accept(
            power_of_attorney=grant_to_organisation(UserFactory(), rights), acting_user=anne
        )


def _member(revisorhuset, anne):
    person = UserFactory()
    _membership, code = services.invite_member(
        acting_user=anne, organisation=revisorhuset, name=person.name, email=person.email, role=Role.EMPLOYEE
    )
    return person, services.join_organisation(acting_user=person, code=code)


def test_access_to_all_lets_the_member_act_for_every_client_with_each_right(
    revisorhuset, anne, read_mail, tax_statement
):
    _accepted_clients(3, anne, [read_mail, tax_statement])
    member, membership = _member(revisorhuset, anne)
    attorney_services.give_organisation_access(acting_user=anne, membership=membership)
    clients = [mandate.grantor for mandate in PowerOfAttorney.objects.filter(organisation=revisorhuset)]
    assert len(clients) == 3
    for client in clients:
        for right in (read_mail, tax_statement):
            assert authorize(actor=member, principal=client, right=right).permitted
    assert CitizenFileUserObjectPermission.objects.filter(user=member).count() == 3 * 2


def test_giving_access_to_all_takes_as_many_queries_for_eight_clients_as_for_two(
    revisorhuset, anne, read_mail, tax_statement
):
    _accepted_clients(2, anne, [read_mail, tax_statement])
    _first, first_membership = _member(revisorhuset, anne)
    with CaptureQueriesContext(connection) as two_clients:
        attorney_services.give_organisation_access(acting_user=anne, membership=first_membership)
    # The first member leaves, so nobody uses the six clients added now: their files at the
    # authority do not exist yet when a second member is given access to all.
    services.end_membership(acting_user=anne, membership=first_membership)
    _accepted_clients(6, anne, [read_mail, tax_statement])
    second, second_membership = _member(revisorhuset, anne)
    with CaptureQueriesContext(connection) as eight_clients:
        attorney_services.give_organisation_access(acting_user=anne, membership=second_membership)
    assert len(eight_clients.captured_queries) == len(two_clients.captured_queries)
    assert CitizenFileUserObjectPermission.objects.filter(user=second).count() == 8 * 2
