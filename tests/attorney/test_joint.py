"""Two attorneys appointed at once, each alone (severally) or together on applications (jointly)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from attorney import policy, services
from attorney.models import JointAppointment, JointMode, PowerOfAttorney, Status
from portal.models import AuditEvent

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anne(db):
    return UserFactory(name="Anne Jensen", national_id="1208803456", email="anne@example.dk")


def appoint(grantor, attorneys, rights, *, mode=JointMode.JOINTLY, days=365):
    now = timezone.now()
    return services.grant_joint_power_of_attorney(
        acting_user=grantor,
        attorneys=[(a.national_id, a.name) for a in attorneys],
        mode=mode,
        rights=rights,
        valid_from=now,
        valid_until=now + datetime.timedelta(days=days),
    )


def accept_all(appointment):
    for mandate in appointment.mandates.all():
        services.accept(power_of_attorney=mandate, acting_user=mandate.attorney)


@pytest.mark.parametrize("mode", [JointMode.JOINTLY, JointMode.SEVERALLY])
def test_a_joint_appointment_gives_each_attorney_a_mandate_of_their_own(karen, peter, anne, read_mail, mode):
    appointment = appoint(karen, [peter, anne], [read_mail], mode=mode)
    mandates = {m.attorney: m for m in appointment.mandates.all()}
    assert set(mandates) == {peter, anne}
    assert all(m.status == Status.PENDING and m.grantor == karen for m in mandates.values())
    assert all([r.code for r in m.rights.all()] == ["skat.read_mail"] for m in mandates.values())
    assert appointment.mode == mode
    events = AuditEvent.objects.filter(action="power_of_attorney.granted")
    assert {e.details["joint_appointment"] for e in events} == {str(appointment.pk)}


def test_letters_stay_readable_by_each_attorney_appointed_jointly(karen, peter, anne, read_mail):
    accept_all(appoint(karen, [peter, anne], [read_mail]))
    assert policy.can_act_for(peter, karen, read_mail)
    assert policy.can_act_for(anne, karen, read_mail)


def test_jointly_appointed_attorneys_must_act_together(karen, peter, anne, read_mail):
    appointment = appoint(karen, [peter, anne], [read_mail])
    accept_all(appointment)
    assert policy.joint_appointment_for(actor=peter, principal=karen, right=read_mail) == appointment


def test_severally_appointed_attorneys_act_alone(karen, peter, anne, read_mail):
    accept_all(appoint(karen, [peter, anne], [read_mail], mode=JointMode.SEVERALLY))
    assert policy.joint_appointment_for(actor=peter, principal=karen, right=read_mail) is None


def test_a_mandate_of_ones_own_beside_the_joint_one_lets_one_act_alone(
    karen, peter, anne, read_mail, tax_statement
):
    accept_all(appoint(karen, [peter, anne], [read_mail]))
    own = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=[read_mail, tax_statement],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    services.accept(power_of_attorney=own, acting_user=peter)
    assert policy.joint_appointment_for(actor=peter, principal=karen, right=read_mail) is None


def test_the_same_person_cannot_be_appointed_twice(karen, peter, read_mail):
    with pytest.raises(ValidationError):
        appoint(karen, [peter, peter], [read_mail])
    assert not JointAppointment.objects.exists()


def test_one_attorney_is_not_a_joint_appointment(karen, peter, read_mail):
    with pytest.raises(ValidationError):
        appoint(karen, [peter], [read_mail])
    assert not PowerOfAttorney.objects.exists()


def test_an_unknown_mode_is_refused(karen, peter, anne, read_mail):
    with pytest.raises(ValidationError):
        appoint(karen, [peter, anne], [read_mail], mode="majority")
    assert not JointAppointment.objects.exists()


def test_a_bad_second_attorney_creates_nothing(karen, peter, read_mail):
    with pytest.raises(ValidationError):
        appoint(karen, [peter, karen], [read_mail])  # appointing herself
    assert not JointAppointment.objects.exists()
    assert not PowerOfAttorney.objects.exists()


def test_renewal_keeps_the_mandate_in_its_appointment(karen, peter, anne, read_mail):
    appointment = appoint(karen, [peter, anne], [read_mail])
    accept_all(appointment)
    mandate = appointment.mandates.get(attorney=peter)
    renewed = services.renew(
        power_of_attorney=mandate,
        acting_user=karen,
        valid_until=mandate.valid_until + datetime.timedelta(days=30),
    )
    assert renewed.joint_appointment == appointment
    assert policy.joint_appointment_for(actor=peter, principal=karen, right=read_mail) == appointment


# --- The form ------------------------------------------------------------------------------------


@pytest.fixture
def karen_client(client, login, karen):
    return login(client, karen)


def form_data(read_mail, **extra):
    today = timezone.localdate()
    return {
        "attorney_national_id": "150375-2345",
        "attorney_name": "Peter Jensen",
        "rights": [read_mail.pk],
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=90)).isoformat(),
        **extra,
    }


def test_the_form_appoints_two_attorneys_jointly(karen_client, karen, peter, anne, read_mail):
    response = karen_client.post(
        reverse("attorney:create"),
        form_data(
            read_mail,
            second_attorney_national_id=anne.national_id,
            second_attorney_name=anne.name,
            mode="jointly",
        ),
    )
    assert response["Location"] == reverse("attorney:confirm")
    summary = karen_client.get(reverse("attorney:confirm"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Anne Jensen" in summary.content.decode()
    response = karen_client.post(reverse("attorney:confirm"))
    assert response["Location"] == reverse("attorney:overview")
    appointment = JointAppointment.objects.get()
    assert appointment.mode == JointMode.JOINTLY
    assert {m.attorney for m in appointment.mandates.all()} == {peter, anne}


def test_the_form_without_a_second_attorney_gives_one_plain_mandate(karen_client, peter, read_mail):
    karen_client.post(reverse("attorney:create"), form_data(read_mail))
    response = karen_client.post(reverse("attorney:confirm"))
    mandate = PowerOfAttorney.objects.get()
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])
    assert mandate.joint_appointment is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"second_attorney_national_id": "1208803456"}, "second_attorney_name"),
        ({"second_attorney_name": "Anne Jensen"}, "second_attorney_national_id"),
        (
            {"second_attorney_national_id": "3213999999", "second_attorney_name": "X"},
            "second_attorney_national_id",
        ),
        (
            {"second_attorney_national_id": "1503752345", "second_attorney_name": "Peter"},
            "second_attorney_national_id",
        ),
        ({"second_attorney_national_id": "1208803456", "second_attorney_name": "Anne", "mode": "x"}, "mode"),
    ],
)
def test_bad_second_attorney_input_is_explained_and_saves_nothing(karen_client, read_mail, extra, field):
    response = karen_client.post(reverse("attorney:create"), form_data(read_mail, **extra))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not PowerOfAttorney.objects.exists()
    assert not JointAppointment.objects.exists()
