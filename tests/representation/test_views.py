"""Legal representatives on the pages: acting for a child, the end of custody mid-session, the ward's
view of a guardianship, histories with the basis, and the family court's admin."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from attorney.middleware import ACTING_FOR_SESSION_KEY
from authorities.catalogue import services as catalogue_services
from authorities.models import AuthorityMembership
from authorities.post import services as post_services
from portal.models import AuditEvent
from representation.models import COPENHAGEN, Representation

from ..factories import UserFactory
from .conftest import BENT, LONE, guardianship_line, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def emma_letter(custody, kommune, emma):
    return post_services.send_letter(
        authority=kommune, citizen=emma, subject="Plads i fritidsklubben", body="Du har fået en plads."
    )


@pytest.fixture
def bent_letter(guardianship, skat, bent):
    return post_services.send_letter(
        authority=skat, citizen=bent, subject="Årsopgørelse", body="Du får penge."
    )


def act_for(client, login, actor, principal):
    login(client, actor)
    client.cookies["django_language"] = "en"
    client.post(reverse("attorney:act_for"), {"grantor": principal.pk})
    assert client.session[ACTING_FOR_SESSION_KEY] == principal.pk


def test_a_parent_reads_the_child_s_letter_and_the_child_sees_it_with_the_basis(
    client, login, emma_letter, peter, emma
):
    act_for(client, login, peter, emma)
    page = client.get(reverse("authorities:inbox")).content.decode()
    assert "Plads i fritidsklubben" in page
    assert "Parental custody" in page  # the banner names the basis
    assert client.get(reverse("authorities:letter", args=[emma_letter.pk])).status_code == 200
    event = AuditEvent.objects.get(action="letter.read")
    assert (event.actor, event.principal, event.details["basis"]) == (peter, emma, ["parental_custody"])
    login(client, emma)
    client.cookies["django_language"] = "en"
    history = client.get(reverse("authorities:done_in_my_name")).content.decode()
    assert "Peter Jensen" in history and "Parental custody" in history


def test_the_act_for_page_lists_the_child_with_the_basis(client, login, custody, peter, emma):
    login(client, peter)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("attorney:act_for")).content.decode()
    assert "Emma Jensen" in page and "Parental custody" in page


def test_custody_ending_mid_session_refuses_the_very_next_request(client, login, emma_letter, peter, emma):
    act_for(client, login, peter, emma)
    run_import()  # the next extract no longer has the relation
    response = client.get(reverse("authorities:letter", args=[emma_letter.pk]))
    assert response.status_code == 404
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_the_18th_birthday_mid_session_refuses_the_very_next_request(
    client, login, emma_letter, peter, emma, time_machine
):
    time_machine.move_to(datetime.datetime(2030, 6, 13, 23, 59, tzinfo=COPENHAGEN), tick=False)
    act_for(client, login, peter, emma)
    assert client.get(reverse("authorities:letter", args=[emma_letter.pk])).status_code == 200
    time_machine.move_to(datetime.datetime(2030, 6, 14, tzinfo=COPENHAGEN), tick=False)
    assert client.get(reverse("authorities:letter", args=[emma_letter.pk])).status_code == 404
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_a_custodian_cannot_read_letters_of_an_authority_outside_custody(
    client, login, custody, skat, catalogue, peter, emma
):
    catalogue["read_mail"].for_custodians = False
    catalogue["read_mail"].save()
    letter = post_services.send_letter(authority=skat, citizen=emma, subject="Skattekort", body="…")
    act_for(client, login, peter, emma)
    assert client.get(reverse("authorities:letter", args=[letter.pk])).status_code == 404


def test_another_citizen_cannot_act_for_the_child(client, login, emma_letter, ole, emma):
    login(client, ole)
    client.post(reverse("attorney:act_for"), {"grantor": emma.pk})
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_a_guardian_reads_within_the_scope_only(client, login, bent_letter, kommune, lone, bent):
    outside = post_services.send_letter(authority=kommune, citizen=bent, subject="Hjemmehjælp", body="…")
    act_for(client, login, lone, bent)
    assert client.get(reverse("authorities:letter", args=[bent_letter.pk])).status_code == 200
    assert client.get(reverse("authorities:letter", args=[outside.pk])).status_code == 404
    assert AuditEvent.objects.get(action="letter.read").details["basis"] == ["guardianship"]


def test_the_ward_sees_the_guardianship_and_how_to_complain_but_cannot_end_it(
    client, login, guardianship, bent
):
    login(client, bent)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("representation:overview"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lone Olsen" in html and "FH-1" in html and "financial matters" in html.lower()
    assert "How to complain" in html and "You cannot end a guardianship here" in html
    assert reverse("authorities:done_in_my_name") in html
    assert "<form" not in html.split('id="main-content"')[1].split("</main>")[0]


def test_the_guardian_sees_whom_they_act_for(client, login, guardianship, lone):
    login(client, lone)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("representation:overview")).content.decode()
    assert "Bent Olsen" in html and "Whom you act for by law" in html


def test_other_people_see_nothing_of_a_guardianship(client, login, guardianship, ole):
    login(client, ole)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("representation:overview")).content.decode()
    assert "Bent Olsen" not in html and "FH-1" not in html


def test_the_page_needs_a_verified_identity(client, login, guardianship):
    person = UserFactory(national_id=BENT, unverified=True)
    login(client, person)
    assert "Lone Olsen" not in client.get(reverse("representation:overview")).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("representation:overview"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_proof_page_names_the_basis(client, active_mandate, peter):
    from attorney import services

    _access_code, code = services.create_access_code(
        power_of_attorney=active_mandate, acting_user=peter, label=""
    )
    client.cookies["django_language"] = "en"
    response = client.post(reverse("proof"), {"code": code, "surname": "Jensen", "organisation": "Bank"})
    html = response.content.decode()
    assert "Basis" in html and "Power of attorney" in html


# --- the family court's admin ------------------------------------------------------------------------


def caseworker_at(authority):
    user = UserFactory(national_id=None, is_staff=True, preferred_language="en")
    AuthorityMembership.objects.create(user=user, authority=authority)
    user.groups.add(catalogue_services.ensure_caseworker_group())
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    return user


def test_a_family_court_caseworker_registers_a_guardianship_in_the_admin(
    client, family_court, catalogue, bent, lone
):
    client.force_login(caseworker_at(family_court))
    response = client.post(
        reverse("admin:representation_representation_register"),
        {
            "ward_national_id": "050748-4321",
            "guardian_national_id": LONE,
            "scope": "both",
            "decision_reference": "FH-2026-77",
            "valid_from": timezone.localdate().isoformat(),
            "valid_until": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    relation = Representation.objects.get()
    assert (relation.represented_national_id, relation.scope, relation.source) == (BENT, "both", "caseworker")
    changelist = client.get(reverse("admin:representation_representation_changelist"))
    assert {row.pk for row in changelist.context["cl"].result_list} == {relation.pk}


def test_bad_input_in_the_admin_is_explained_and_changes_nothing(client, family_court, catalogue):
    client.force_login(caseworker_at(family_court))
    response = client.post(
        reverse("admin:representation_representation_register"),
        {
            "ward_national_id": "999999-9999",
            "guardian_national_id": LONE,
            "scope": "x",
            "decision_reference": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Representation.objects.exists()


def test_caseworkers_elsewhere_see_no_guardianships_and_cannot_register_one(
    client, skat, family_court, catalogue
):
    run_import(guardianship_line(BENT, LONE))
    client.force_login(caseworker_at(skat))
    changelist = client.get(reverse("admin:representation_representation_changelist"))
    assert changelist.status_code in (200, 403)
    if changelist.status_code == 200:
        assert not list(changelist.context["cl"].result_list)
    relation = Representation.objects.get()
    response = client.get(reverse("admin:representation_representation_change", args=[relation.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    register = client.post(reverse("admin:representation_representation_register"), {})
    assert register.status_code == 403


def test_the_family_court_ends_its_guardianship_with_a_reason(client, family_court, catalogue, bent, lone):
    from representation import services

    caseworker = caseworker_at(family_court)
    relation = services.register_guardianship(
        acting_user=caseworker,
        ward_national_id=BENT,
        guardian_national_id=LONE,
        scope="personal",
        decision_reference="FH-3",
        valid_from=timezone.now(),
        valid_until=None,
    )
    client.force_login(caseworker)
    url = reverse("admin:representation_representation_end", args=[relation.pk])
    assert client.post(url, {"reason": " "}).status_code == 200
    assert client.post(url, {"reason": "Afgørelse af 1. december"}).status_code == 302
    relation.refresh_from_db()
    assert relation.ended_at is not None and relation.ended_by == caseworker


def test_group_has_the_guardianship_permissions():
    group = Group.objects.get(name=catalogue_services.CASEWORKER_GROUP)
    codenames = set(
        group.permissions.filter(content_type__app_label="representation").values_list("codename", flat=True)
    )
    assert codenames == {"view_representation", "add_representation", "change_representation"}


def grant_form(attorney, right):
    today = timezone.localdate()
    return {
        "attorney_national_id": attorney.national_id,
        "attorney_name": attorney.name,
        "rights": [right.pk],
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=90)).isoformat(),
    }


def test_a_ward_giving_financial_rights_is_told_why_not_and_nothing_is_made(
    client, login, guardianship, catalogue, bent, ole
):
    login(client, bent)
    client.cookies["django_language"] = "en"
    client.post(reverse("attorney:create"), grant_form(ole, catalogue["read_mail"]))
    response = client.post(reverse("attorney:confirm"), follow=True)
    assert "your guardian decides those" in response.content.decode()
    assert not bent.powers_given.exists()


def test_a_minor_giving_a_power_of_attorney_is_told_why_not(client, login, catalogue, emma, ole):
    login(client, emma)
    client.cookies["django_language"] = "en"
    client.post(reverse("attorney:create"), grant_form(ole, catalogue["kommune_mail"]))
    response = client.post(reverse("attorney:confirm"), follow=True)
    assert "A person under 18 cannot give a power of attorney" in response.content.decode()
    assert not emma.powers_given.exists()
