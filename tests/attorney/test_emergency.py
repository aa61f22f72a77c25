"""Emergency powers of attorney: a relative asks, two different caseworkers approve, and the citizen
is told at once, can revoke it, and is asked at their next login whether to replace it."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from attorney import services
from attorney.models import Basis, EmergencyRequest, EmergencyStatus
from attorney.policy import can_act_for
from portal.errors import Conflict, Invalid, NotAllowed
from portal.models import AuditEvent, Notice, OutboundEmail

from ..authorities.test_admin import admin_as, make_caseworker
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(kommune):
    """Two caseworkers at the citizen service desk who may approve emergency powers of attorney."""
    permission = Permission.objects.get(
        content_type__app_label="attorney", codename="approve_emergencyrequest"
    )
    first = make_caseworker(kommune, name="Lise Kommune", email="lise@example.dk")
    second = make_caseworker(kommune, name="Jonas Borg", email="jonas@example.dk")
    for caseworker in (first, second):
        caseworker.user_permissions.add(permission)
    return first, second


def ask(relative, citizen, authorities, **extra):
    fields = {"days": 14, "reason": "Indlagt efter et fald."} | extra
    return services.request_emergency_power_of_attorney(
        acting_user=relative,
        citizen_national_id=citizen.national_id,
        citizen_name=citizen.name,
        authorities=authorities,
        **fields,
    )


@pytest.fixture
def emergency(peter, karen, kommune_mail, skat, read_mail):
    return ask(peter, karen, [kommune_mail.service.authority, skat])


def approve_twice(emergency, desk):
    services.approve_emergency_request(emergency_request=emergency, acting_user=desk[0])
    return services.approve_emergency_request(emergency_request=emergency, acting_user=desk[1])


# --- asking ------------------------------------------------------------------------------------------


def test_a_request_gives_nothing_before_two_approvals(emergency, desk, karen, peter, kommune_mail):
    assert emergency.status == EmergencyStatus.AWAITING_FIRST
    services.approve_emergency_request(emergency_request=emergency, acting_user=desk[0])
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.AWAITING_SECOND
    assert not can_act_for(peter, karen, kommune_mail)


def test_only_the_right_to_read_letters_is_asked_for(emergency, read_mail, kommune_mail):
    assert {right.code for right in emergency.rights.all()} == {read_mail.code, kommune_mail.code}


def test_more_than_thirty_days_is_refused(peter, karen, kommune):
    with pytest.raises(Invalid) as refused:
        ask(peter, karen, [kommune], days=31)
    assert "days" in refused.value.message_dict
    assert not EmergencyRequest.objects.exists()


def test_a_reason_is_required(peter, karen, kommune, kommune_mail):
    with pytest.raises(Invalid) as refused:
        ask(peter, karen, [kommune], reason="  ")
    assert "reason" in refused.value.message_dict


def test_an_authority_without_letters_gives_nothing_to_ask_for(peter, karen, kommune):
    with pytest.raises(Invalid) as refused:
        ask(peter, karen, [kommune])  # no read_mail right at the municipality in this test
    assert "authorities" in refused.value.message_dict


def test_the_citizen_must_be_named_by_cpr_number_and_name(peter, karen, kommune_mail):
    with pytest.raises(Invalid):
        services.request_emergency_power_of_attorney(
            acting_user=peter,
            citizen_national_id=karen.national_id,
            citizen_name="Someone Else",
            authorities=[kommune_mail.service.authority],
            days=5,
            reason="x",
        )


def test_nobody_asks_for_themselves(karen, kommune_mail):
    with pytest.raises(Invalid):
        ask(karen, karen, [kommune_mail.service.authority])


def test_an_unverified_relative_cannot_ask(karen, kommune_mail):
    stranger = UserFactory(unverified=True)
    with pytest.raises(NotAllowed):
        ask(stranger, karen, [kommune_mail.service.authority])


# --- four eyes ---------------------------------------------------------------------------------------


def test_the_same_caseworker_cannot_approve_twice(emergency, desk):
    services.approve_emergency_request(emergency_request=emergency, acting_user=desk[0])
    with pytest.raises(NotAllowed):
        services.approve_emergency_request(emergency_request=emergency, acting_user=desk[0])
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.AWAITING_SECOND
    assert emergency.power_of_attorney is None


def test_the_database_refuses_one_person_as_both_approvers(emergency, desk):
    emergency.first_approved_by = emergency.second_approved_by = desk[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        emergency.save()


def test_a_caseworker_without_the_permission_cannot_approve(emergency, skat):
    with pytest.raises(NotAllowed):
        services.approve_emergency_request(emergency_request=emergency, acting_user=make_caseworker(skat))


def test_a_party_cannot_approve(emergency, desk, peter):
    peter.user_permissions.add(
        Permission.objects.get(content_type__app_label="attorney", codename="approve_emergencyrequest")
    )
    peter = type(peter).objects.get(pk=peter.pk)
    with pytest.raises(NotAllowed):
        services.approve_emergency_request(emergency_request=emergency, acting_user=peter)


def test_two_approvals_put_it_in_force_for_its_days_with_only_letters(
    emergency, desk, karen, peter, kommune_mail, read_mail, tax_statement
):
    approved = approve_twice(emergency, desk)
    mandate = approved.power_of_attorney
    assert mandate.basis == Basis.EMERGENCY
    assert mandate.valid_until - mandate.valid_from == datetime.timedelta(days=14)
    assert can_act_for(peter, karen, kommune_mail)
    assert can_act_for(peter, karen, read_mail)
    assert not can_act_for(peter, karen, tax_statement)
    actions = set(AuditEvent.objects.filter(principal=karen).values_list("action", flat=True))
    assert {"emergency.requested", "emergency.first_approval", "emergency.approved"} <= actions


def test_the_citizen_is_told_at_once_by_notice_and_email(emergency, desk, karen, run_on_commit):
    with run_on_commit():
        approve_twice(emergency, desk)
    assert Notice.objects.filter(recipient=karen).exists()
    assert OutboundEmail.objects.filter(recipient=karen.email).exists()


def test_a_refused_request_cannot_be_approved_and_the_relative_is_told(emergency, desk, peter):
    services.refuse_emergency_request(
        emergency_request=emergency, acting_user=desk[0], reason="Ikke bekræftet."
    )
    with pytest.raises(Conflict):
        services.approve_emergency_request(emergency_request=emergency, acting_user=desk[1])
    assert Notice.objects.filter(recipient=peter).exists()


def test_a_refusal_needs_a_reason(emergency, desk):
    with pytest.raises(Invalid):
        services.refuse_emergency_request(emergency_request=emergency, acting_user=desk[0], reason=" ")


# --- afterwards --------------------------------------------------------------------------------------


def test_the_citizen_can_revoke_it_at_once(emergency, desk, karen, peter, kommune_mail):
    mandate = approve_twice(emergency, desk).power_of_attorney
    services.revoke(power_of_attorney=mandate, acting_user=karen)
    assert not can_act_for(peter, karen, kommune_mail)


def test_it_cannot_be_renewed_or_changed(emergency, desk, karen, kommune_mail):
    mandate = approve_twice(emergency, desk).power_of_attorney
    with pytest.raises(Conflict):
        services.renew(
            power_of_attorney=mandate,
            acting_user=karen,
            valid_until=timezone.now() + datetime.timedelta(days=60),
        )
    with pytest.raises(Conflict):
        services.change(
            power_of_attorney=mandate,
            acting_user=karen,
            rights=[kommune_mail],
            valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=60),
        )


def test_a_second_request_while_one_is_open_is_refused(emergency, peter, karen, kommune_mail):
    with pytest.raises(Conflict):
        ask(peter, karen, [kommune_mail.service.authority])


def test_another_within_ninety_days_needs_a_stated_reason(emergency, desk, peter, karen, kommune_mail):
    services.revoke(power_of_attorney=approve_twice(emergency, desk).power_of_attorney, acting_user=karen)
    with pytest.raises(Invalid) as refused:
        ask(peter, karen, [kommune_mail.service.authority])
    assert "repeat_reason" in refused.value.message_dict
    again = ask(peter, karen, [kommune_mail.service.authority], repeat_reason="Indlagt igen.")
    assert again.status == EmergencyStatus.AWAITING_FIRST


# --- pages -------------------------------------------------------------------------------------------


def test_the_citizen_is_asked_once_at_the_next_login(client, login, emergency, desk, karen):
    approve_twice(emergency, desk)
    login(client, karen, reauthenticate=False)
    first = client.get(reverse("home"))
    assert first.status_code == 302
    assert first["Location"] == reverse("attorney:emergency", args=[emergency.pk])
    assert client.get(reverse("home")).status_code == 200


def test_replacing_it_opens_the_grant_form_filled_in(client, login, emergency, desk, karen, peter):
    approve_twice(emergency, desk)
    login(client, karen, reauthenticate=False)
    response = client.post(reverse("attorney:emergency_answer", args=[emergency.pk]), {"answer": "replace"})
    assert response["Location"] == reverse("attorney:create")
    form = client.get(reverse("attorney:create")).context["form"]
    assert form.initial["attorney_national_id"] == peter.national_id
    emergency.refresh_from_db()
    assert emergency.citizen_answered_at is not None


def test_keeping_it_is_not_asked_again(client, login, emergency, desk, karen):
    approve_twice(emergency, desk)
    login(client, karen, reauthenticate=False)
    client.post(reverse("attorney:emergency_answer", args=[emergency.pk]), {"answer": "keep"})
    login(client, karen, reauthenticate=False)
    assert client.get(reverse("home")).status_code == 200


def test_the_relative_asks_through_the_form(client, login, peter, karen, kommune_mail):
    login(client, peter, reauthenticate=False)
    response = client.post(
        reverse("attorney:emergency_create"),
        {
            "citizen_national_id": karen.national_id,
            "citizen_name": karen.name,
            "authorities": [kommune_mail.service.authority.pk],
            "days": "10",
            "reason": "Indlagt.",
        },
    )
    emergency = EmergencyRequest.objects.get()
    assert response["Location"] == reverse("attorney:emergency", args=[emergency.pk])


def test_bad_input_on_the_form_is_explained_and_saves_nothing(client, login, peter, karen):
    login(client, peter, reauthenticate=False)
    response = client.post(
        reverse("attorney:emergency_create"),
        {"citizen_national_id": "12", "citizen_name": "", "days": "90", "reason": ""},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"citizen_national_id", "days", "reason", "authorities"}
    assert not EmergencyRequest.objects.exists()


def test_someone_else_cannot_see_or_answer_the_request(client, login, emergency, desk, ole):
    approve_twice(emergency, desk)
    login(client, ole, reauthenticate=False)
    assert client.get(reverse("attorney:emergency", args=[emergency.pk])).status_code == 404
    answer = client.post(reverse("attorney:emergency_answer", args=[emergency.pk]), {"answer": "keep"})
    assert answer.status_code == 404


def test_the_relative_cannot_answer_for_the_citizen(client, login, emergency, desk, peter):
    approve_twice(emergency, desk)
    login(client, peter, reauthenticate=False)
    answer = client.post(reverse("attorney:emergency_answer", args=[emergency.pk]), {"answer": "keep"})
    assert answer.status_code == 404


def test_two_caseworkers_approve_in_the_admin(client, emergency, desk, karen, peter, kommune_mail):
    url = reverse("admin:attorney_emergencyrequest_approve", args=[emergency.pk])
    admin_as(client, desk[0]).post(url)
    assert not can_act_for(peter, karen, kommune_mail)
    admin_as(client, desk[1]).post(url)
    assert can_act_for(peter, karen, kommune_mail)


def test_a_caseworker_without_the_permission_does_not_see_the_requests(client, emergency, skat):
    response = admin_as(client, make_caseworker(skat)).get(
        reverse("admin:attorney_emergencyrequest_changelist")
    )
    assert response.status_code == 403


def test_an_approved_request_cannot_be_approved_again(emergency, desk, kommune):
    approve_twice(emergency, desk)
    third = make_caseworker(kommune, name="Tredje", email="tredje@example.dk")
    third.user_permissions.add(
        Permission.objects.get(content_type__app_label="attorney", codename="approve_emergencyrequest")
    )
    with pytest.raises(Conflict):
        services.approve_emergency_request(emergency_request=emergency, acting_user=third)
