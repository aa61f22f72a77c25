"""Applications by attorneys appointed jointly: one makes it, another approves it or either stops it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import JointMode
from authorities.applications import services as applications_services
from authorities.catalogue.selectors import in_caseworker_scope
from authorities.models import Application, ApplicationForm, ApplicationStatus, ApplicationValueKind
from portal.models import AuditEvent, Notice

from ..factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def anne(db):
    return UserFactory(name="Anne Jensen", national_id="1208803456", email="anne@example.dk")


@pytest.fixture
def correction(tax_statement):
    form = ApplicationForm.objects.create(
        service=tax_statement.service,
        right=tax_statement,
        value_kind=ApplicationValueKind.AMOUNT,
        value_label_da="Beløb",
        value_label_en="Amount",
    )
    return form.service


def appoint(karen, attorneys, rights, mode):
    now = timezone.now()
    appointment = attorney_services.grant_joint_power_of_attorney(
        acting_user=karen,
        attorneys=[(a.national_id, a.name) for a in attorneys],
        mode=mode,
        rights=rights,
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )
    for mandate in appointment.mandates.all():
        attorney_services.accept(power_of_attorney=mandate, acting_user=mandate.attorney)
    return appointment


@pytest.fixture
def jointly(karen, peter, anne, read_mail, tax_statement):
    return appoint(karen, [peter, anne], [read_mail, tax_statement], JointMode.JOINTLY)


def submit(attorney, karen, service):
    return applications_services.submit_application(
        acting_user=attorney, principal=karen, service=service, description="Fradrag", amount=100
    )


@pytest.fixture
def held(jointly, peter, karen, correction):
    return submit(peter, karen, correction)


def test_an_application_by_one_joint_attorney_waits_for_the_other(held, peter, karen, anne):
    assert held.status == ApplicationStatus.ON_HOLD
    assert held.joint_appointment is not None
    event = AuditEvent.objects.get(action="application.held")
    assert (event.actor, event.principal, event.authority) == (peter, karen, None)
    assert not AuditEvent.objects.filter(action="application.submitted").exists()
    notice = Notice.objects.filter(recipient=anne).latest("pk")
    assert notice.link == reverse("authorities:application", args=[held.pk])
    assert "Peter Jensen" in notice.subject and "Karen Jensen" in notice.subject
    assert not Notice.objects.filter(recipient=peter, link=notice.link).exists()


def test_severally_appointed_attorneys_submit_at_once(
    karen, peter, anne, read_mail, tax_statement, correction
):
    appoint(karen, [peter, anne], [read_mail, tax_statement], JointMode.SEVERALLY)
    assert submit(peter, karen, correction).status == ApplicationStatus.SUBMITTED


def test_the_other_attorney_approves_and_it_is_submitted(held, anne, peter, karen):
    approved = applications_services.approve_joint_application(application=held, acting_user=anne)
    assert approved.status == ApplicationStatus.SUBMITTED
    assert (approved.submitted_by, approved.approved_by) == (peter, anne)
    assert approved.approved_at is not None
    event = AuditEvent.objects.get(action="application.co_approved")
    assert (event.actor, event.principal, event.authority) == (anne, karen, held.service.authority)


def test_the_submitter_cannot_approve_their_own_application(held, peter):
    with pytest.raises(PermissionDenied):
        applications_services.approve_joint_application(application=held, acting_user=peter)
    held.refresh_from_db()
    assert held.status == ApplicationStatus.ON_HOLD


def test_an_attorney_of_another_appointment_cannot_approve(held, karen, ole, read_mail, tax_statement):
    other = UserFactory()
    appoint(karen, [ole, other], [read_mail, tax_statement], JointMode.JOINTLY)
    with pytest.raises(PermissionDenied):
        applications_services.approve_joint_application(application=held, acting_user=ole)


def test_the_grantor_cannot_approve_in_place_of_an_attorney(held, karen):
    with pytest.raises(PermissionDenied):
        applications_services.approve_joint_application(application=held, acting_user=karen)


def test_an_attorney_without_the_right_cannot_approve(
    karen, peter, anne, read_mail, tax_statement, correction
):
    appointment = appoint(karen, [peter, anne], [read_mail, tax_statement], JointMode.JOINTLY)
    # Anne's mandate is changed to letters only; the change waits for her acceptance, then replaces.
    old = appointment.mandates.get(attorney=anne)
    changed = attorney_services.change(
        power_of_attorney=old,
        acting_user=karen,
        rights=[read_mail],
        valid_from=timezone.now(),
        valid_until=old.valid_until,
    )
    attorney_services.accept(power_of_attorney=changed, acting_user=anne)
    application = submit(peter, karen, correction)
    with pytest.raises(PermissionDenied):
        applications_services.approve_joint_application(application=application, acting_user=anne)


def test_an_attorney_whose_mandate_was_revoked_cannot_approve(held, karen, anne, jointly):
    attorney_services.revoke(power_of_attorney=jointly.mandates.get(attorney=anne), acting_user=karen)
    with pytest.raises(PermissionDenied):
        applications_services.approve_joint_application(application=held, acting_user=anne)


@pytest.mark.parametrize("who", ["peter", "anne"])
def test_either_attorney_can_stop_it(held, who, request, karen):
    attorney = request.getfixturevalue(who)
    stopped = applications_services.stop_joint_application(application=held, acting_user=attorney)
    assert stopped.status == ApplicationStatus.STOPPED
    assert stopped.stopped_by == attorney
    event = AuditEvent.objects.get(action="application.stopped")
    assert (event.actor, event.principal, event.authority) == (attorney, karen, None)


def test_a_stopped_application_cannot_be_approved(held, peter, anne):
    applications_services.stop_joint_application(application=held, acting_user=peter)
    with pytest.raises(ValidationError):
        applications_services.approve_joint_application(application=held, acting_user=anne)


def test_an_outsider_cannot_stop_it(held, ole):
    with pytest.raises(PermissionDenied):
        applications_services.stop_joint_application(application=held, acting_user=ole)


def test_a_held_or_stopped_application_is_invisible_to_the_caseworker(held, peter, skat, correction, karen):
    from authorities.models import AuthorityMembership

    caseworker = UserFactory(is_staff=True, national_id=None)
    AuthorityMembership.objects.create(user=caseworker, authority=skat)
    assert not in_caseworker_scope(user=caseworker, records=Application.objects.all()).exists()
    applications_services.stop_joint_application(application=held, acting_user=peter)
    assert not in_caseworker_scope(user=caseworker, records=Application.objects.all()).exists()


def test_the_caseworker_sees_it_once_approved(held, anne, skat):
    from authorities.models import AuthorityMembership

    caseworker = UserFactory(is_staff=True, national_id=None)
    AuthorityMembership.objects.create(user=caseworker, authority=skat)
    applications_services.approve_joint_application(application=held, acting_user=anne)
    assert in_caseworker_scope(user=caseworker, records=Application.objects.all()).get() == held


def test_a_held_application_cannot_be_decided(held):
    with pytest.raises(ValidationError):
        applications_services.decide_application(
            application=held, acting_user=None, status=ApplicationStatus.APPROVED, decision_text="Ja"
        )


# --- Pages --------------------------------------------------------------------------------------


def acting(client, login, attorney, karen):
    login(client, attorney)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    return client


def test_the_other_attorney_sees_approve_and_stop(client, login, held, anne, karen):
    page = acting(client, login, anne, karen).get(reverse("authorities:application", args=[held.pk]))
    assert page.context["may_approve"] and page.context["may_stop"]
    assert reverse("authorities:application_approve", args=[held.pk]) in page.content.decode()


def test_a_held_application_is_shown_as_made_not_submitted(client, login, held, anne, karen):
    page = acting(client, login, anne, karen).get(reverse("authorities:application", args=[held.pk]))
    text = " ".join(page.content.decode().split())
    assert "<dt>Oprettet af</dt>" in text
    assert "<dt>Indsendt af</dt>" not in text


def test_the_submitter_sees_only_stop(client, login, held, peter, karen):
    page = acting(client, login, peter, karen).get(reverse("authorities:application", args=[held.pk]))
    assert not page.context["may_approve"] and page.context["may_stop"]
    assert reverse("authorities:application_approve", args=[held.pk]) not in page.content.decode()


def test_approving_through_the_page_sends_it(client, login, held, anne, karen):
    response = acting(client, login, anne, karen).post(
        reverse("authorities:application_approve", args=[held.pk])
    )
    assert response["Location"] == reverse("authorities:application", args=[held.pk])
    held.refresh_from_db()
    assert held.status == ApplicationStatus.SUBMITTED


def test_the_submitter_posting_approve_changes_nothing(client, login, held, peter, karen):
    response = acting(client, login, peter, karen).post(
        reverse("authorities:application_approve", args=[held.pk])
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == ApplicationStatus.ON_HOLD


def test_an_outsider_gets_404_for_approve(client, login, held, ole):
    login(client, ole)
    response = client.post(reverse("authorities:application_approve", args=[held.pk]))
    assert response.status_code == 404
    held.refresh_from_db()
    assert held.status == ApplicationStatus.ON_HOLD


def test_the_grantor_sees_who_submitted_and_who_stopped(client, login, held, anne, karen):
    applications_services.stop_joint_application(application=held, acting_user=anne)
    login(client, karen)
    page = client.get(reverse("authorities:application", args=[held.pk]))
    text = page.content.decode()
    assert "Peter Jensen" in text and "Anne Jensen" in text
    assert not page.context["may_approve"] and not page.context["may_stop"]


def test_the_admin_lists_and_opens_only_sent_applications(client, held, anne, skat):
    from .test_admin import admin_as, make_caseworker, shown

    caseworker = admin_as(client, make_caseworker(skat))
    changelist = reverse("admin:authorities_application_changelist")
    assert shown(client.get(changelist)) == set()
    assert client.get(reverse("admin:authorities_application_change", args=[held.pk])).status_code in (
        302,
        404,
    )
    applications_services.approve_joint_application(application=held, acting_user=anne)
    assert shown(caseworker.get(changelist)) == {held.pk}


def test_applying_through_the_page_says_it_waits(client, login, jointly, peter, karen, correction):
    acting(client, login, peter, karen)
    url = reverse("authorities:apply", args=[correction.authority.slug, correction.slug])
    response = client.post(url, {"description": "Fradrag", "amount": "100"}, follow=True)
    application = Application.objects.get()
    assert application.status == ApplicationStatus.ON_HOLD
    said = [str(m) for m in response.context["messages"]][-1]
    assert said in (
        "The application waits for the other attorney's approval before it is sent.",
        "Ansøgningen venter på den anden fuldmagtshavers godkendelse, før den sendes.",
    )
