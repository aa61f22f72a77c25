"""Ending a power of attorney bites at the next request, with no worker or beat running."""

import datetime

import pytest
from django.urls import reverse
from guardian.shortcuts import get_objects_for_user

from attorney import policy, services
from authorities.catalogue.permissions import PeriodAwareObjectPermissionChecker
from authorities.models import CitizenFile

from ..conftest import grant

pytestmark = pytest.mark.django_db


def guardian_paths(user, right, citizen_file):
    """What each of guardian's read paths says about one right on one file."""
    perm = f"authorities.{right.permission_codename}"
    return {
        "has_perm": user.has_perm(perm, citizen_file),
        "checker": PeriodAwareObjectPermissionChecker(user).has_perm(right.permission_codename, citizen_file),
        "get_objects_for_user": citizen_file
        in get_objects_for_user(user, perm, klass=CitizenFile, accept_global_perms=False),
    }


@pytest.fixture
def short_mandate(karen, peter, read_mail):
    return services.accept(power_of_attorney=grant(karen, peter, [read_mail], days=0.01), acting_user=peter)


def test_every_path_says_yes_inside_the_period(short_mandate, karen, peter, read_mail):
    citizen_file = CitizenFile.objects.get(citizen=karen)
    assert guardian_paths(peter, read_mail, citizen_file) == dict.fromkeys(
        ["has_perm", "checker", "get_objects_for_user"], True
    )
    assert policy.can_act_for(peter, karen, read_mail)


def test_one_second_after_valid_until_every_path_says_no(
    short_mandate, karen, peter, read_mail, time_machine
):
    citizen_file = CitizenFile.objects.get(citizen=karen)
    time_machine.move_to(short_mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    # No expire_due has run: the mandate is still "active" in the database.
    short_mandate.refresh_from_db()
    assert short_mandate.status == "active"
    assert guardian_paths(peter, read_mail, citizen_file) == dict.fromkeys(
        ["has_perm", "checker", "get_objects_for_user"], False
    )
    assert not policy.can_act_for(peter, karen, read_mail)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).reason == "expired"


def test_one_second_before_valid_until_every_path_still_says_yes(
    short_mandate, karen, peter, read_mail, time_machine
):
    citizen_file = CitizenFile.objects.get(citizen=karen)
    time_machine.move_to(short_mandate.valid_until - datetime.timedelta(seconds=1), tick=False)
    assert all(guardian_paths(peter, read_mail, citizen_file).values())
    assert policy.can_act_for(peter, karen, read_mail)


def test_a_mandate_starting_tomorrow_is_not_yet_valid(karen, peter, read_mail):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail], start_in_days=1), acting_user=peter)
    citizen_file = CitizenFile.objects.get(citizen=karen)
    assert not any(guardian_paths(peter, read_mail, citizen_file).values())
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).reason == "not_yet_valid"


def test_past_moments_are_answered_from_history(short_mandate, karen, peter, read_mail, time_machine):
    during = short_mandate.activated_at + datetime.timedelta(minutes=1)
    time_machine.move_to(during + datetime.timedelta(minutes=1))
    services.revoke(power_of_attorney=short_mandate, acting_user=karen)
    assert not policy.can_act_for(peter, karen, read_mail)
    assert policy.can_act_for(peter, karen, read_mail, at=during)
    before = short_mandate.activated_at - datetime.timedelta(seconds=1)
    assert not policy.can_act_for(peter, karen, read_mail, at=before)


@pytest.mark.parametrize("ending", ["expiry", "revoke", "resign"])
def test_acting_ends_at_the_next_request(client, login, short_mandate, karen, peter, ending, time_machine):
    time_machine.move_to(short_mandate.activated_at + datetime.timedelta(seconds=1), tick=False)
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert client.get(reverse("attorney:use_right", args=["skat.read_mail"])).status_code == 200
    if ending == "expiry":
        time_machine.move_to(short_mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    elif ending == "revoke":
        services.revoke(power_of_attorney=short_mandate, acting_user=karen)
    else:
        services.resign(power_of_attorney=short_mandate, acting_user=peter)
    response = client.get(reverse("attorney:use_right", args=["skat.read_mail"]))
    assert response.status_code == 404  # no longer acting for anyone
    page = client.get(reverse("home")).content.decode()
    assert "Karen Jensen" not in page.split("<main")[0]
