"""The authorization policy's edges: the ones a one-line bug in the permission code would slip past."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from attorney import policy, services
from authorities.applications import services as applications_services
from authorities.clients.services import create_api_client
from authorities.models import ApplicationForm, ApplicationValueKind, CitizenFileUserObjectPermission
from authorities.post import services as post_services

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


def ask(client, token, body):
    return client.post(
        reverse("api:decisions"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def form_for(right):
    return ApplicationForm.objects.create(
        service=right.service,
        right=right,
        value_kind=ApplicationValueKind.AMOUNT,
        value_label_da="Beløb",
        value_label_en="Amount",
        amount_min=0,
        amount_max=1000,
    ).service


# --- the end of the period ------------------------------------------------------------------------


def test_a_decision_at_the_end_moment_is_a_deny(active_mandate, karen, peter, read_mail):
    end = active_mandate.valid_until
    assert policy.authorize(actor=peter, principal=karen, right=read_mail, at=end).permitted is False
    just_before = end - datetime.timedelta(microseconds=1)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail, at=just_before).permitted


def test_the_fast_path_says_no_at_the_end_moment(active_mandate, karen, peter, read_mail, time_machine):
    time_machine.move_to(active_mandate.valid_until, tick=False)
    assert not policy.can_act_for(peter, karen, read_mail)


# --- the guardian row must agree --------------------------------------------------------------------


def test_can_act_for_needs_the_guardian_row_too(active_mandate, karen, peter, read_mail):
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=active_mandate).delete()
    assert not policy.can_act_for(peter, karen, read_mail)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).reason == "no_power_of_attorney"


def test_the_api_refuses_a_revoked_mandate_whose_permission_row_was_left_behind(
    client, skat_token, active_mandate, karen, peter, read_mail
):
    rows = list(CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=active_mandate).values())
    services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    for row in rows:  # the projection out of step: the rows survived the revocation
        row.pop("id")
        CitizenFileUserObjectPermission.all_rows.create(**row)
    answer = ask(
        client,
        skat_token,
        {"actor": peter.national_id, "principal": karen.national_id, "right": read_mail.code},
    )
    assert answer.json()["decision"] == "deny"
    assert not policy.can_act_for(peter, karen, read_mail)


def test_letters_and_applications_need_the_guardian_row_of_a_mandate_in_force(
    client, login, active_mandate, karen, peter, read_mail, tax_statement, skat
):
    post_services.send_letter(authority=skat, citizen=karen, subject="Årsopgørelse", body="Se her")
    service = form_for(tax_statement)
    applications_services.submit_application(
        acting_user=karen, principal=karen, service=service, description="x", amount=5
    )
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=active_mandate).delete()
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert list(client.get(reverse("authorities:inbox")).context["page"]) == []
    assert list(client.get(reverse("authorities:applications")).context["applications"]) == []


# --- the right decides what is seen ---------------------------------------------------------------


def test_an_application_right_does_not_open_the_letters(client, login, karen, peter, tax_statement, skat):
    services.accept(power_of_attorney=grant(karen, peter, [tax_statement]), acting_user=peter)
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Hemmelig", body="Brev")
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert list(client.get(reverse("authorities:inbox")).context["page"]) == []
    assert client.get(reverse("authorities:letter", args=[letter.pk])).status_code == 404


def test_a_right_for_one_service_does_not_show_applications_to_another(
    client, login, karen, peter, tax_statement, skat
):
    other_right = RightFactory(
        service=ServiceFactory(authority=skat, slug="fradrag"), code="skat.apply_deduction"
    )
    other = form_for(other_right)
    form_for(tax_statement)
    application = applications_services.submit_application(
        acting_user=karen, principal=karen, service=other, description="fradrag", amount=7
    )
    services.accept(power_of_attorney=grant(karen, peter, [tax_statement]), acting_user=peter)
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert list(client.get(reverse("authorities:applications")).context["applications"]) == []
    assert client.get(reverse("authorities:application", args=[application.pk])).status_code == 404


# --- the API's batch --------------------------------------------------------------------------------


def test_a_batch_with_a_foreign_right_in_a_later_question_is_refused(
    client, skat_token, active_mandate, karen, peter, read_mail, kommune_mail
):
    question = {"actor": peter.national_id, "principal": karen.national_id}
    response = client.post(
        reverse("api:decisions_batch"),
        json.dumps(
            {"questions": [{**question, "right": read_mail.code}, {**question, "right": kommune_mail.code}]}
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {skat_token}",
    )
    assert response.status_code == 403


# --- one decision per question --------------------------------------------------------------------


def test_a_denied_right_is_decided_once(
    client, login, active_mandate, karen, peter, django_assert_max_num_queries
):
    kommune_right = RightFactory(code="kobenhavns-kommune.apply_help")
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    # 13: the session (read and saved), the user, the act-for check, the page's own reads, and the
    # decision in three: the permit's fast path, whether Peter belongs to an organisation (he
    # doesn't, so no organisation's mandate is asked about), and the pair's history in one statement.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("attorney:use_right", args=[kommune_right.code]))
    assert response.status_code == 403
    assert response.context["decision"].reason == "right_not_granted"


def test_the_decision_names_its_basis(active_mandate, karen, peter, read_mail, kommune_mail):
    assert policy.authorize(actor=peter, principal=karen, right=read_mail).basis == "power_of_attorney"
    assert policy.authorize(actor=karen, principal=karen, right=read_mail).basis == "self"
    assert policy.authorize(actor=peter, principal=karen, right=kommune_mail).basis is None


def test_in_force_is_read_from_the_mandates_times_not_its_status(active_mandate, time_machine):
    from attorney.models import PowerOfAttorney

    assert PowerOfAttorney.objects.in_force().filter(pk=active_mandate.pk).exists()
    later = active_mandate.valid_until + datetime.timedelta(seconds=1)
    assert not PowerOfAttorney.objects.in_force(later).filter(pk=active_mandate.pk).exists()
    assert active_mandate.status == "active"  # no job has run, and it is still not in force
    before = active_mandate.activated_at - datetime.timedelta(seconds=1)
    assert not PowerOfAttorney.objects.in_force(before).filter(pk=active_mandate.pk).exists()
    assert active_mandate.is_in_force(timezone.now())


# --- found by mutation testing (docs/mutation-testing.md) ----------------------------------------


def test_an_anonymous_visitor_acts_for_nobody(active_mandate, karen, read_mail):
    from django.contrib.auth.models import AnonymousUser

    assert not policy.can_act_for(AnonymousUser(), karen, read_mail)


def test_the_permission_row_must_be_for_the_right_asked_about(
    active_mandate, karen, peter, read_mail, tax_statement
):
    CitizenFileUserObjectPermission.all_rows.filter(
        power_of_attorney=active_mandate, permission=read_mail.permission
    ).delete()
    assert not policy.can_act_for(peter, karen, read_mail)
    assert policy.can_act_for(peter, karen, tax_statement)


def test_a_permission_row_out_of_its_period_permits_nothing(active_mandate, karen, peter, read_mail):
    now = timezone.now()
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=active_mandate).update(
        valid_from=now - datetime.timedelta(days=2), valid_until=now - datetime.timedelta(seconds=1)
    )
    assert not policy.can_act_for(peter, karen, read_mail)


def test_a_permit_by_cpr_number_is_one_query(
    active_mandate, karen, peter, read_mail, django_assert_num_queries
):
    with django_assert_num_queries(1):
        decision = policy.authorize_by_cpr(
            actor_national_id=peter.national_id, principal_national_id=karen.national_id, right=read_mail
        )
    assert decision.permitted


def test_a_mandate_from_one_grantor_says_nothing_about_another(active_mandate, karen, peter, ole, read_mail):
    assert not policy.authorize(actor=peter, principal=ole, right=read_mail).permitted
    assert not policy.authorize(actor=ole, principal=karen, right=read_mail).permitted
    assert not policy.authorize_by_cpr(
        actor_national_id=peter.national_id, principal_national_id=ole.national_id, right=read_mail
    ).permitted


def test_nobody_acts_for_a_grantor_whose_identity_is_not_verified(active_mandate, karen, peter, read_mail):
    type(karen).objects.filter(pk=karen.pk).update(identity_verified_at=None, identity_verification="")
    karen.refresh_from_db()
    assert not policy.authorize(actor=peter, principal=karen, right=read_mail).permitted


def test_an_inactive_attorney_acts_for_nobody(active_mandate, karen, peter, read_mail):
    peter.is_active = False
    peter.save(update_fields=["is_active"])
    assert not policy.authorize(actor=peter, principal=karen, right=read_mail).permitted


# --- the reasons at the exact second (found by mutation testing) -------------------------------------


def _set_times(mandate, **times):
    type(mandate).objects.filter(pk=mandate.pk).update(**times)
    mandate.refresh_from_db()
    return mandate


def test_a_mandate_ended_in_the_second_it_was_accepted_is_ended_then(active_mandate, karen, peter, read_mail):
    moment = active_mandate.activated_at
    _set_times(active_mandate, status="revoked", ended_at=moment)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=moment)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.REVOKED)


def test_a_mandate_revoked_before_its_start_is_ended_at_its_start(active_mandate, karen, peter, read_mail):
    start = active_mandate.activated_at + datetime.timedelta(days=3)
    _set_times(
        active_mandate,
        status="revoked",
        valid_from=start,
        ended_at=active_mandate.activated_at + datetime.timedelta(days=1),
    )
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=start)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.REVOKED)
    assert decision.power_of_attorney.pk == active_mandate.pk
    before = start - datetime.timedelta(microseconds=1)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail, at=before).reason == "revoked"


def test_a_mandate_revoked_at_the_moment_asked_about_is_ended(active_mandate, karen, peter, read_mail):
    revoked_at = active_mandate.activated_at + datetime.timedelta(days=2)
    _set_times(active_mandate, status="revoked", ended_at=revoked_at)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=revoked_at)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.REVOKED)
    earlier = revoked_at - datetime.timedelta(microseconds=1)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail, at=earlier).permitted


def test_a_mandate_ended_at_its_last_moment_ran_out(active_mandate, karen, peter, read_mail):
    end = active_mandate.valid_until
    _set_times(active_mandate, status="revoked", ended_at=end)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=end)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.EXPIRED)


def test_an_expired_mandate_is_explained_as_expired(active_mandate, karen, peter, read_mail):
    end = active_mandate.valid_until
    _set_times(active_mandate, status="expired", ended_at=end)
    later = end + datetime.timedelta(days=1)
    assert policy.authorize(actor=peter, principal=karen, right=read_mail, at=later).reason == "expired"


# --- the files a mandate opens (found by mutation testing) -------------------------------------------


def test_rights_at_two_authorities_open_both_files(karen, peter, read_mail, kommune_mail):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter)
    rights = policy.rights_in_force(actor=peter, principal=karen)
    files = policy.permitted_files(actor=peter, principal=karen, rights=rights)
    assert {f.authority_id for f in files} == {
        read_mail.service.authority_id,
        kommune_mail.service.authority_id,
    }


def test_a_model_wide_permission_opens_no_citizen_file(active_mandate, karen, peter, kommune_mail):
    from authorities.catalogue.services import get_or_create_citizen_file

    get_or_create_citizen_file(citizen=karen, authority=kommune_mail.service.authority)
    peter.user_permissions.add(kommune_mail.permission)
    peter = type(peter).objects.get(pk=peter.pk)  # no cached permissions
    files = policy.permitted_files(actor=peter, principal=karen, rights=[kommune_mail])
    assert not files.exists()


# --- the explanation reads only these two people's mandates (found by mutation testing) -------------


def test_a_mandate_from_another_grantor_explains_nothing_at_any_moment(karen, peter, ole, read_mail):
    services.accept(power_of_attorney=grant(ole, peter, [read_mail]), acting_user=peter)
    later = timezone.now() + datetime.timedelta(days=1)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=later)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.NO_POWER_OF_ATTORNEY)


def test_a_mandate_to_another_attorney_explains_nothing_at_any_moment(karen, peter, ole, read_mail):
    services.accept(power_of_attorney=grant(karen, ole, [read_mail]), acting_user=ole)
    later = timezone.now() + datetime.timedelta(days=1)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=later)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.NO_POWER_OF_ATTORNEY)


# --- a denial names the mandate it is about (found by mutation testing) ------------------------------


def test_not_yet_valid_names_the_mandate_that_starts_first(karen, peter, read_mail, tax_statement):
    later = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail], start_in_days=20), acting_user=peter
    )
    sooner = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, tax_statement], start_in_days=10), acting_user=peter
    )
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=timezone.now())
    assert (decision.permitted, decision.reason) == (False, policy.Reason.NOT_YET_VALID)
    assert decision.power_of_attorney.pk == sooner.pk != later.pk


def test_ended_before_its_start_names_the_mandate_ended_last(karen, peter, read_mail, tax_statement):
    now = timezone.now()
    first = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail], start_in_days=10), acting_user=peter
    )
    second = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, tax_statement], start_in_days=10), acting_user=peter
    )
    # The one given first was ended last: the answer names it, not the one listed first.
    _set_times(first, status="revoked", ended_at=now + datetime.timedelta(hours=2))
    _set_times(second, status="revoked", ended_at=now + datetime.timedelta(hours=1))
    moment = now + datetime.timedelta(days=1)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=moment)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.REVOKED)
    assert decision.power_of_attorney.pk == first.pk


def test_ended_at_the_very_moment_before_its_start_is_ended(karen, peter, read_mail):
    mandate = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail], start_in_days=10), acting_user=peter
    )
    moment = timezone.now() + datetime.timedelta(days=1)
    _set_times(mandate, status="revoked", ended_at=moment)
    decision = policy.authorize(actor=peter, principal=karen, right=read_mail, at=moment)
    assert (decision.permitted, decision.reason) == (False, policy.Reason.REVOKED)
    assert decision.power_of_attorney.pk == mandate.pk


# --- rights and files for one principal only (found by mutation testing) ----------------------------


def test_rights_in_force_are_only_the_principals(karen, peter, ole, read_mail, kommune_mail):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    services.accept(power_of_attorney=grant(ole, peter, [kommune_mail]), acting_user=peter)
    assert [r.code for r in policy.rights_in_force(actor=peter, principal=karen)] == [read_mail.code]


def test_permitted_files_are_only_the_principals(karen, peter, ole, read_mail):
    services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    services.accept(power_of_attorney=grant(ole, peter, [read_mail]), acting_user=peter)
    files = policy.permitted_files(actor=peter, principal=karen, rights=[read_mail])
    assert [f.citizen_id for f in files] == [karen.pk]
