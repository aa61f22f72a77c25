import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from attorney import policy, selectors, services
from attorney.models import PowerOfAttorney, Status
from authorities.models import CitizenFile, CitizenFileUserObjectPermission
from portal import merkle, tlog
from portal.audit import entry_bytes
from portal.errors import NotAllowed
from portal.models import AuditEvent, AuditLogLeaf, Notice, OutboundEmail

from ..conftest import grant
from ..factories import RightFactory, UserFactory

pytestmark = pytest.mark.django_db


def permission_rows(mandate):
    return CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=mandate)


# --- grant -------------------------------------------------------------------------------------


def test_grant_creates_a_pending_mandate_without_permissions(karen, peter, read_mail):
    mandate = grant(karen, peter, [read_mail])
    assert mandate.status == Status.PENDING
    assert mandate.attorney == peter
    assert not permission_rows(mandate).exists()
    assert not policy.can_act_for(peter, karen, read_mail)


def test_grant_to_an_unknown_cpr_stores_an_invitation(karen, read_mail):
    now = timezone.now()
    mandate = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id="120390-4567",
        attorney_name="Anne Jensen",
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=30),
    )
    assert mandate.attorney is None
    assert mandate.invitee_national_id == "1203904567"
    assert mandate.invitee_name == "Anne Jensen"


def test_invitation_appears_when_a_person_with_that_cpr_signs_up_and_can_be_accepted(karen, read_mail):
    now = timezone.now()
    mandate = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id="1203904567",
        attorney_name="Anne Jensen",
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=30),
    )
    anne = UserFactory(national_id="1203904567", name="Anne Jensen")
    assert list(selectors.invitations_for(anne)) == [mandate]
    services.accept(power_of_attorney=mandate, acting_user=anne)
    assert policy.can_act_for(anne, karen, read_mail)


def test_name_matching_ignores_case_and_spacing(karen, peter, read_mail):
    now = timezone.now()
    mandate = services.grant_power_of_attorney(
        acting_user=karen,
        attorney_national_id="150375-2345",
        attorney_name="  peter   JENSEN ",
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=30),
    )
    assert mandate.attorney == peter


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"attorney_national_id": "010245-1234"}, "attorney_national_id"),  # Karen herself
        ({"attorney_national_id": "320175-2345"}, "attorney_national_id"),  # impossible CPR
        ({"attorney_name": "  "}, "attorney_name"),
        ({"rights": []}, "rights"),
        ({"valid_until": -1}, "valid_until"),  # end in the past
        ({"valid_until": 365 * 11}, "valid_until"),  # beyond the maximum
        ({"valid_from": 10, "valid_until": 5}, "valid_until"),  # end before start
    ],
)
def test_bad_grant_is_refused_with_a_message_and_saves_nothing(karen, peter, read_mail, override, field):
    now = timezone.now()
    arguments = {
        "acting_user": karen,
        "attorney_national_id": peter.national_id,
        "attorney_name": peter.name,
        "rights": [read_mail],
        "valid_from": now,
        "valid_until": now + datetime.timedelta(days=30),
    }
    for key, value in override.items():
        if key in ("valid_from", "valid_until"):
            value = now + datetime.timedelta(days=value)
        arguments[key] = value
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        services.grant_power_of_attorney(**arguments)
    assert field in error.value.message_dict
    assert error.value.message_dict[field][0]
    assert not PowerOfAttorney.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert not mail.outbox


def test_identical_open_mandate_is_refused(karen, peter, read_mail):
    grant(karen, peter, [read_mail])
    with pytest.raises(ValidationError):
        grant(karen, peter, [read_mail])
    assert PowerOfAttorney.objects.count() == 1


def test_a_mandate_with_other_rights_to_the_same_person_is_allowed(karen, peter, read_mail, tax_statement):
    grant(karen, peter, [read_mail])
    grant(karen, peter, [read_mail, tax_statement])
    assert PowerOfAttorney.objects.count() == 2


def test_a_right_that_is_not_saved_is_refused(karen, peter, read_mail):
    unsaved = RightFactory.build(service=read_mail.service, code="skat.invented")
    with pytest.raises(ValidationError):
        grant(karen, peter, [unsaved])


# --- accept / decline ------------------------------------------------------------------------


def test_accept_activates_and_grants_one_object_permission_per_right(karen, peter, read_mail, kommune_mail):
    mandate = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    assert mandate.status == Status.ACTIVE
    assert mandate.activated_at is not None
    rows = permission_rows(mandate)
    assert rows.count() == 2
    assert {row.content_object.authority.slug for row in rows} == {"skat", "kobenhavns-kommune"}
    assert all(row.content_object.citizen == karen and row.user == peter for row in rows)
    assert policy.can_act_for(peter, karen, read_mail)
    assert policy.can_act_for(peter, karen, kommune_mail)


def test_accept_by_someone_else_is_refused(karen, peter, ole, read_mail):
    mandate = grant(karen, peter, [read_mail])
    with pytest.raises(NotAllowed):
        services.accept(power_of_attorney=mandate, acting_user=ole)
    mandate.refresh_from_db()
    assert mandate.status == Status.PENDING
    assert not CitizenFileUserObjectPermission.all_rows.exists()


def test_accepting_a_mandate_whose_period_is_over_is_refused(karen, peter, read_mail, time_machine):
    mandate = grant(karen, peter, [read_mail], days=1)
    time_machine.move_to(mandate.valid_until + datetime.timedelta(seconds=1))
    with pytest.raises(ValidationError):
        services.accept(power_of_attorney=mandate, acting_user=peter)
    assert PowerOfAttorney.objects.get().status == Status.PENDING


def test_decline_ends_a_pending_mandate(karen, peter, read_mail):
    mandate = services.decline(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    assert mandate.status == Status.DECLINED
    assert mandate.ended_at is not None
    with pytest.raises(ValidationError):
        services.accept(power_of_attorney=mandate, acting_user=peter)


# --- ending --------------------------------------------------------------------------------


def test_revoke_removes_the_permissions_at_once(active_mandate, karen, peter, read_mail):
    services.revoke(power_of_attorney=active_mandate, acting_user=karen, reason="Ikke længere nødvendig")
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.REVOKED
    assert active_mandate.ended_by == karen
    assert active_mandate.end_reason == "Ikke længere nødvendig"
    assert not permission_rows(active_mandate).exists()
    assert not policy.can_act_for(peter, karen, read_mail)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).reason == "revoked"


def test_only_the_grantor_can_revoke(active_mandate, peter, ole):
    for someone in (peter, ole):
        with pytest.raises(NotAllowed):
            services.revoke(power_of_attorney=active_mandate, acting_user=someone)
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE


def test_resign_removes_the_permissions(active_mandate, karen, peter, read_mail):
    services.resign(power_of_attorney=active_mandate, acting_user=peter)
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.RESIGNED
    assert not policy.can_act_for(peter, karen, read_mail)


def test_only_the_attorney_can_resign(active_mandate, karen, ole):
    for someone in (karen, ole):
        with pytest.raises(NotAllowed):
            services.resign(power_of_attorney=active_mandate, acting_user=someone)


@pytest.mark.parametrize("end", ["revoke", "resign", "decline", "expire"])
def test_an_ended_mandate_cannot_be_revived_or_ended_again(karen, peter, read_mail, end, time_machine):
    mandate = grant(karen, peter, [read_mail], days=2)
    if end != "decline":
        mandate = services.accept(power_of_attorney=mandate, acting_user=peter)
    if end == "revoke":
        services.revoke(power_of_attorney=mandate, acting_user=karen)
    elif end == "resign":
        services.resign(power_of_attorney=mandate, acting_user=peter)
    elif end == "decline":
        services.decline(power_of_attorney=mandate, acting_user=peter)
    else:
        time_machine.move_to(mandate.valid_until + datetime.timedelta(seconds=1))
        assert services.expire_due() == 1
    status = PowerOfAttorney.objects.get().status
    for attempt in (
        lambda: services.accept(power_of_attorney=mandate, acting_user=peter),
        lambda: services.revoke(power_of_attorney=mandate, acting_user=karen),
        lambda: services.resign(power_of_attorney=mandate, acting_user=peter),
        lambda: services.decline(power_of_attorney=mandate, acting_user=peter),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert PowerOfAttorney.objects.get().status == status
    assert not CitizenFileUserObjectPermission.all_rows.exists()


def test_expire_due_ends_all_due_mandates_in_one_pass(karen, peter, ole, read_mail, time_machine):
    first = services.accept(power_of_attorney=grant(karen, peter, [read_mail], days=1), acting_user=peter)
    second = services.accept(power_of_attorney=grant(karen, ole, [read_mail], days=1), acting_user=ole)
    pending = grant(peter, karen, [read_mail], days=1)
    later = services.accept(power_of_attorney=grant(ole, peter, [read_mail], days=30), acting_user=peter)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    assert services.expire_due() == 3
    statuses = dict(PowerOfAttorney.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == statuses[pending.pk] == Status.EXPIRED
    assert statuses[later.pk] == Status.ACTIVE
    assert set(CitizenFileUserObjectPermission.all_rows.values_list("power_of_attorney", flat=True)) == {
        later.pk
    }
    assert services.expire_due() == 0


# --- renew and change -----------------------------------------------------------------------


def test_renew_replaces_with_same_rights_and_later_end_in_one_step(active_mandate, karen, peter, read_mail):
    new_end = active_mandate.valid_until + datetime.timedelta(days=365)
    new = services.renew(power_of_attorney=active_mandate, acting_user=karen, valid_until=new_end)
    active_mandate.refresh_from_db()
    assert new.status == Status.ACTIVE
    assert new.valid_until == new_end
    assert new.replaces == active_mandate
    assert set(new.rights.all()) == set(active_mandate.rights.all())
    assert active_mandate.status == Status.REVOKED
    assert not permission_rows(active_mandate).exists()
    assert permission_rows(new).count() == 2
    assert policy.can_act_for(peter, karen, read_mail)


def test_renew_must_move_the_end_later(active_mandate, karen):
    with pytest.raises(ValidationError):
        services.renew(
            power_of_attorney=active_mandate, acting_user=karen, valid_until=active_mandate.valid_until
        )


def test_change_creates_a_replacement_that_applies_once_accepted(
    active_mandate, karen, peter, read_mail, tax_statement
):
    now = timezone.now()
    new = services.change(
        power_of_attorney=active_mandate,
        acting_user=karen,
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=60),
    )
    assert new.status == Status.PENDING
    assert policy.can_act_for(peter, karen, tax_statement)  # the old one still applies
    services.accept(power_of_attorney=new, acting_user=peter)
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.REVOKED
    assert policy.can_act_for(peter, karen, read_mail)
    assert not policy.can_act_for(peter, karen, tax_statement)


# --- audit and notifications -----------------------------------------------------------------


def test_every_transition_is_audited_in_an_intact_log(active_mandate, karen):
    services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    actions = list(
        AuditEvent.objects.filter(target_id=str(active_mandate.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["power_of_attorney.granted", "power_of_attorney.accepted", "power_of_attorney.revoked"]
    tlog.sequence()
    assert tlog.verify_log().problems == []


def test_editing_an_audit_row_is_caught_by_the_log(active_mandate):
    import pgtrigger

    tlog.sequence()
    event = AuditEvent.objects.order_by("id").first()
    # Someone with database access bypasses the append-only trigger and edits history.
    with pgtrigger.ignore("portal.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=event.pk).update(details={"forged": True})
    assert (
        f"Entry {event.log_leaf.index} (event {event.uuid}) has been changed" in tlog.verify_log().problems[0]
    )


def test_each_party_gets_one_email_and_one_notice_per_event(karen, peter, read_mail, run_on_commit):
    with run_on_commit():
        mandate = grant(karen, peter, [read_mail])
    assert sorted(m.to[0] for m in mail.outbox) == ["karen@example.dk", "peter@example.dk"]
    assert Notice.objects.filter(recipient=peter).count() == 1
    with run_on_commit():
        services.accept(power_of_attorney=mandate, acting_user=peter)
    assert len(mail.outbox) == 4


def test_emails_are_written_in_the_recipients_language(karen, peter, read_mail, run_on_commit):
    peter.preferred_language = "en"
    peter.save()
    with run_on_commit():
        grant(karen, peter, [read_mail])
    to_peter = next(m for m in mail.outbox if m.to == [peter.email])
    assert "wants to give you a power of attorney" in to_peter.subject


def test_running_the_email_task_twice_sends_once(karen, peter, read_mail, run_on_commit):
    from portal.tasks import send_outbound_email

    with run_on_commit():
        grant(karen, peter, [read_mail])
    email = OutboundEmail.objects.get(recipient=peter.email)
    assert email.sent_at is not None
    sent = len(mail.outbox)
    assert send_outbound_email(email.pk) is False
    assert send_outbound_email.apply(args=[email.pk]).get() is False
    assert len(mail.outbox) == sent


def test_notifying_the_same_event_twice_sends_once(active_mandate, karen, run_on_commit):
    from portal.notifications import notify

    sent = len(mail.outbox)
    with run_on_commit():
        for _ in range(2):
            notify(
                recipient=karen,
                event_key=f"poa:{active_mandate.pk}:accepted",
                template="attorney/email/event",
                context={"mandate": active_mandate, "event": "accepted", "is_grantor": True},
            )
    assert len(mail.outbox) == sent


def test_expiry_reminder_is_sent_once_to_both_parties(karen, peter, read_mail, time_machine, run_on_commit):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail], days=20), acting_user=peter)
    assert services.send_expiry_reminders() == 0
    time_machine.move_to(timezone.now() + datetime.timedelta(days=7))
    with run_on_commit():
        assert services.send_expiry_reminders() == 1
        assert services.send_expiry_reminders() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["karen@example.dk", "peter@example.dk"]


def test_work_in_a_transaction_that_rolls_back_sends_nothing(karen, peter, read_mail, run_on_commit):
    from django.db import transaction

    with run_on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        grant(karen, peter, [read_mail])
        raise RuntimeError("rolled back")
    assert not mail.outbox
    assert not PowerOfAttorney.objects.exists()


# --- citizen files ------------------------------------------------------------------------


def test_citizen_file_is_created_once_per_citizen_and_authority(karen, peter, ole, read_mail, tax_statement):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail, tax_statement]), acting_user=peter)
    services.accept(power_of_attorney=grant(karen, ole, [read_mail]), acting_user=ole)
    assert CitizenFile.objects.filter(citizen=karen).count() == 1


def test_expiry_runs_in_batches_and_tells_everyone_once(karen, ole, read_mail, time_machine, run_on_commit):
    from ..factories import UserFactory

    attorneys = [UserFactory() for _ in range(5)]
    for attorney in attorneys:
        services.accept(power_of_attorney=grant(karen, attorney, [read_mail], days=1), acting_user=attorney)
    mail.outbox.clear()
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    with run_on_commit():
        assert services.expire_due(batch_size=2) == 5
    assert set(PowerOfAttorney.objects.values_list("status", flat=True)) == {Status.EXPIRED}
    assert not CitizenFileUserObjectPermission.all_rows.exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([karen.email] * 5 + [a.email for a in attorneys])


def test_an_email_that_was_never_queued_is_sent_by_the_resend_job(
    karen, peter, read_mail, time_machine, run_on_commit
):
    from portal.tasks import resend_unsent_emails

    grant(karen, peter, [read_mail])  # outside run_on_commit: as if the broker was down at commit
    assert not mail.outbox
    assert resend_unsent_emails() == 0  # too fresh: its own task may still be on the way
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=11))
    assert resend_unsent_emails() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [karen.email, peter.email]
    assert resend_unsent_emails() == 0


def test_a_failed_send_is_written_down_and_retried(karen, peter, read_mail, settings):
    from unittest import mock

    from portal.tasks import send_outbound_email

    grant(karen, peter, [read_mail])
    email = OutboundEmail.objects.get(recipient=peter.email)
    with (
        mock.patch("portal.tasks.send_mail", side_effect=OSError("SMTP server down")),
        pytest.raises(OSError),
    ):
        send_outbound_email.run(email.pk)
    email.refresh_from_db()
    assert (email.sent_at, email.attempts, email.last_error) == (None, 1, "SMTP server down")
    assert send_outbound_email.run(email.pk) is True
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 2


def test_the_expiry_job_writes_audit_and_authority_events_per_batch_not_per_mandate(
    karen, read_mail, kommune_mail, time_machine, django_assert_max_num_queries
):
    for attorney in UserFactory.create_batch(12):
        services.accept(
            power_of_attorney=grant(karen, attorney, [read_mail, kommune_mail], days=1), acting_user=attorney
        )
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    # One batch of twelve: about as many statements as a batch of one (a few per mandate would be 36+).
    with django_assert_max_num_queries(16):
        assert services.expire_due() == 12
    expired = AuditEvent.objects.filter(action="power_of_attorney.expired")
    assert expired.count() == 12
    tlog.sequence()  # every one of them was queued for the transparency log
    assert AuditLogLeaf.objects.filter(event__in=expired).count() == 12


def test_the_expiry_jobs_audit_events_are_stored_as_hashed(karen, read_mail, time_machine):
    """Written together as plain values, each event's stored row still gives its leaf hash."""
    attorneys = UserFactory.create_batch(3)
    mandates = [
        services.accept(power_of_attorney=grant(karen, attorney, [read_mail], days=1), acting_user=attorney)
        for attorney in attorneys
    ]
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    services.expire_due()
    expired = list(AuditEvent.objects.filter(action="power_of_attorney.expired").order_by("pk"))
    assert sorted(event.target_id for event in expired) == sorted(str(m.pk) for m in mandates)
    for event in expired:
        assert event.hash == merkle.leaf_hash(entry_bytes(event)).hex()
        assert event.details == {"grantor": karen.pk, "attorney": int(event.details["attorney"])}
        assert (event.target_type, event.actor_id, event.principal_id) == ("powerofattorney", None, None)
    assert {event.details["attorney"] for event in expired} == {a.pk for a in attorneys}
