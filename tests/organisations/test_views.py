"""An organisation's pages: what members and administrators see and do, and what everyone else
is refused (404 for people outside the organisation, 403 for employees on the administrators'
pages, the login page for anonymous visitors, the identity page for unverified accounts)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import OrganisationAccess, PowerOfAttorney, Status
from authorities.post import services as post_services
from organisations import services
from organisations.models import Membership, Role
from portal.models import OutboundEmail

from ..factories import RightFactory, ServiceFactory, UserFactory
from .conftest import REVISOR_CVR, REVISOR_NAME, grant_to_organisation

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"organisations:{name}", args=args)


def page(response) -> str:
    return response.content.decode()


# --- who may see an organisation's pages ---------------------------------------------------------


@pytest.fixture
def as_who(client, login, anne, bo_member, bo, ole):
    def _as(who: str):
        person = {"administrator": anne, "employee": bo, "outsider": ole}.get(who)
        if who == "unverified":
            person = UserFactory(
                national_id="1111111118", identity_verified_at=None, identity_verification=""
            )
        if person is not None:
            login(client, person)
        return client

    return _as


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("unverified", 403), ("outsider", 404), ("employee", 200), ("administrator", 200)],
)
def test_the_organisation_page_is_for_its_members(as_who, revisorhuset, who, expected):
    response = as_who(who).get(url("detail", revisorhuset.pk))
    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


def _admin_pages(organisation, member, mandate, access) -> list[tuple[str, str]]:
    return [
        ("get", url("invite", organisation.pk)),
        ("get", url("member", organisation.pk, member.pk)),
        ("get", url("mandate", organisation.pk, mandate.pk)),
        ("get", url("give_access", organisation.pk)),
        ("get", url("resign", organisation.pk, mandate.pk)),
        ("post", url("remove_access", organisation.pk, access.pk)),
    ]


@pytest.mark.parametrize("index", range(6))
def test_an_employee_gets_403_on_the_administrators_pages(
    as_who, revisorhuset, bo_member, client_mandate, bo_has_access, index
):
    method, address = _admin_pages(revisorhuset, bo_member, client_mandate, bo_has_access)[index]
    client = as_who("employee")
    assert getattr(client, method)(address).status_code == 403
    assert OrganisationAccess.objects.current().filter(pk=bo_has_access.pk).exists()


@pytest.mark.parametrize("index", range(6))
def test_someone_outside_the_organisation_gets_404_everywhere(
    as_who, revisorhuset, bo_member, client_mandate, bo_has_access, index
):
    method, address = _admin_pages(revisorhuset, bo_member, client_mandate, bo_has_access)[index]
    assert getattr(as_who("outsider"), method)(address).status_code == 404


def test_the_administrator_of_another_organisation_gets_404(
    client, login, dorte, advokathuset, revisorhuset, client_mandate
):
    login(client, dorte)
    assert client.get(url("detail", revisorhuset.pk)).status_code == 404
    # Karen's power of attorney to Revisorhuset, asked for through Advokathuset's pages.
    assert client.get(url("mandate", advokathuset.pk, client_mandate.pk)).status_code == 404
    assert client.post(url("resign", advokathuset.pk, client_mandate.pk)).status_code == 404


def test_state_changes_take_post_only(client, login, anne, revisorhuset, pending_mandate, bo_has_access):
    login(client, anne)
    assert client.get(url("accept", revisorhuset.pk, pending_mandate.pk)).status_code == 405
    assert client.get(url("decline", revisorhuset.pk, pending_mandate.pk)).status_code == 405
    assert client.get(url("remove_access", revisorhuset.pk, bo_has_access.pk)).status_code == 405
    pending_mandate.refresh_from_db()
    assert pending_mandate.status == Status.PENDING


def test_a_post_without_the_csrf_token_is_refused(anne, revisorhuset):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(anne)
    response = client.post(
        url("invite", revisorhuset.pk), {"name": "X", "email": "x@example.dk", "role": "employee"}
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(invited_email="x@example.dk").exists()


# --- what a member sees ------------------------------------------------------------------------


def test_an_employee_sees_their_role_and_their_clients_but_not_the_members(
    client, login, bo, revisorhuset, bo_has_access
):
    login(client, bo)
    html = page(client.get(url("detail", revisorhuset.pk)))
    assert "Karen Jensen" in html
    assert reverse("attorney:act_for") in html
    assert url("invite", revisorhuset.pk) not in html
    assert "Anne Revisor" not in html


def test_an_employee_without_access_is_told_who_can_give_it(
    client, login, bo, revisorhuset, bo_member, client_mandate
):
    login(client, bo)
    response = client.get(url("detail", revisorhuset.pk))
    assert list(response.context["clients"]) == []
    assert "Karen Jensen" not in page(response)


def test_the_administrator_sees_members_invitations_and_powers_of_attorney_with_who_may_use_them(
    client, login, anne, revisorhuset, bo_has_access, tax_statement, peter, ole
):
    services.invite_member(acting_user=anne, organisation=revisorhuset, name="Cecilie Ny", email="c@r.dk")
    pending = grant_to_organisation(peter, [tax_statement])
    login(client, anne)
    response = client.get(url("detail", revisorhuset.pk))
    html = page(response)
    assert [m.invited_name for m in response.context["members"]] == [
        "Anne Revisor",
        "Bo Bogholder",
        "Cecilie Ny",
    ]
    assert response.context["mandates"].pending == [pending]
    [in_force] = response.context["mandates"].in_force
    assert [a.membership.user.name for a in in_force.current_access] == ["Bo Bogholder"]
    assert url("mandate", revisorhuset.pk, pending.pk) in html
    assert "Cecilie Ny" in html


def test_the_menu_shows_organisations_only_to_members(client, login, bo, ole, bo_member):
    login(client, bo)
    assert url("overview") in page(client.get(reverse("authorities:start")))
    login(client, ole)
    assert url("overview") not in page(client.get(reverse("authorities:start")))


def test_the_menu_follows_joining_and_leaving_at_once(client, login, revisorhuset, cecilie_invitation):
    membership, code = cecilie_invitation
    login(client, UserFactory(name="Cecilie Ny"))
    assert url("overview") not in page(client.get(reverse("authorities:start")))
    client.post(url("join", code))
    assert url("overview") in page(client.get(reverse("authorities:start")))
    client.post(url("end_membership", revisorhuset.pk, membership.pk))
    assert url("overview") not in page(client.get(reverse("authorities:start")))


def test_pages_ask_nothing_about_organisations_for_the_menu(client, login, bo, bo_member):
    login(client, bo)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("authorities:start"))
    assert not [
        q
        for q in queries.captured_queries
        if "organisations_membership" in q["sql"] and "LIMIT 1" in q["sql"]
    ]


def test_the_overview_lists_the_persons_organisations(client, login, bo, revisorhuset, bo_member):
    login(client, bo)
    html = page(client.get(url("overview")))
    assert REVISOR_NAME in html and url("detail", revisorhuset.pk) in html


# --- inviting, joining, roles, leaving ---------------------------------------------------------


def test_the_administrator_invites_a_member_by_email(client, login, anne, revisorhuset, run_on_commit):
    login(client, anne)
    with run_on_commit():
        response = client.post(
            url("invite", revisorhuset.pk),
            {"name": "Cecilie Ny", "email": "cecilie@r.dk", "role": "employee"},
        )
    assert response.status_code == 302
    invited = Membership.objects.get(invited_email="cecilie@r.dk")
    assert (invited.role, invited.user, invited.invited_by) == (Role.EMPLOYEE, None, anne)
    assert OutboundEmail.objects.filter(recipient="cecilie@r.dk").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Cecilie Ny", "email": "not-an-address", "role": "employee"}, "email"),
        ({"name": "  ", "email": "c@r.dk", "role": "employee"}, "name"),
        ({"name": "Cecilie Ny", "email": "c@r.dk", "role": "owner"}, "role"),
    ],
)
def test_bad_input_on_the_invitation_shows_an_error_and_invites_nobody(
    client, login, anne, revisorhuset, data, field
):
    login(client, anne)
    before = Membership.objects.count()
    response = client.post(url("invite", revisorhuset.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Membership.objects.count() == before
    assert not OutboundEmail.objects.filter(recipient="c@r.dk").exists()


def test_an_employee_cannot_invite(client, login, bo, revisorhuset, bo_member):
    login(client, bo)
    response = client.post(
        url("invite", revisorhuset.pk), {"name": "X", "email": "x@r.dk", "role": "administrator"}
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(invited_email="x@r.dk").exists()


@pytest.fixture
def cecilie_invitation(anne, revisorhuset):
    membership, code = services.invite_member(
        acting_user=anne, organisation=revisorhuset, name="Cecilie Ny", email="cecilie@r.dk"
    )
    return membership, code


def test_the_invited_person_joins_by_the_link(client, login, revisorhuset, cecilie_invitation):
    membership, code = cecilie_invitation
    cecilie = UserFactory(name="Cecilie Ny")
    login(client, cecilie)
    assert client.get(url("join", code)).status_code == 200
    response = client.post(url("join", code))
    assert response["Location"] == url("detail", revisorhuset.pk)
    membership.refresh_from_db()
    assert membership.user == cecilie and membership.has_joined


def test_an_anonymous_visitor_of_the_link_is_sent_to_log_in(client, cecilie_invitation):
    _membership, code = cecilie_invitation
    response = client.get(url("join", code))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_unverified_account_cannot_join(client, login, cecilie_invitation):
    membership, code = cecilie_invitation
    login(client, UserFactory(national_id="1111111118", identity_verified_at=None, identity_verification=""))
    assert client.post(url("join", code)).status_code == 403
    membership.refresh_from_db()
    assert membership.user is None


def test_an_expired_invitation_says_so_and_joins_nobody(client, login, cecilie_invitation, time_machine):
    membership, code = cecilie_invitation
    time_machine.move_to(membership.invitation_expires_at + datetime.timedelta(seconds=1), tick=False)
    login(client, UserFactory(name="Cecilie Ny"))
    assert client.get(url("join", code)).status_code == 410
    assert client.post(url("join", code)).status_code == 410
    membership.refresh_from_db()
    assert membership.user is None


def test_an_invitation_bound_to_another_cpr_number_cannot_be_taken(client, login, registrar, ole):
    _organisation, code = services.register_organisation(
        acting_user=registrar,
        cvr="23456788",
        name="Banken A/S",
        administrator_national_id="1208804567",
        administrator_name="Anne Revisor",
        administrator_email="anne@banken.dk",
    )
    login(client, ole)
    response = client.post(url("join", code), follow=True)
    assert "This invitation is for another person." in page(response) or "en anden person" in page(response)
    assert not Membership.objects.filter(user=ole).exists()


def test_the_administrator_changes_a_members_role(client, login, anne, revisorhuset, bo_member):
    login(client, anne)
    response = client.post(url("member", revisorhuset.pk, bo_member.pk), {"role": "administrator"})
    assert response.status_code == 302
    bo_member.refresh_from_db()
    assert bo_member.role == Role.ADMINISTRATOR


def test_the_last_administrator_cannot_become_an_employee(client, login, anne, revisorhuset, anne_member):
    login(client, anne)
    response = client.post(url("member", revisorhuset.pk, anne_member.pk), {"role": "employee"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    anne_member.refresh_from_db()
    assert anne_member.role == Role.ADMINISTRATOR


def test_an_employee_cannot_change_roles(client, login, bo, revisorhuset, bo_member):
    login(client, bo)
    assert (
        client.post(url("member", revisorhuset.pk, bo_member.pk), {"role": "administrator"}).status_code
        == 403
    )
    bo_member.refresh_from_db()
    assert bo_member.role == Role.EMPLOYEE


def test_removing_a_member_asks_first_and_then_ends_their_access(
    client, login, anne, bo, revisorhuset, bo_member, bo_has_access
):
    login(client, anne)
    address = url("end_membership", revisorhuset.pk, bo_member.pk)
    assert client.get(address).status_code == 200
    bo_member.refresh_from_db()
    assert not bo_member.has_left
    response = client.post(address)
    assert response["Location"] == url("detail", revisorhuset.pk)
    bo_member.refresh_from_db()
    assert bo_member.removed_by == anne and bo_member.has_left
    assert not OrganisationAccess.objects.current().filter(membership=bo_member).exists()


def test_the_administrator_withdraws_an_invitation(client, login, anne, revisorhuset, cecilie_invitation):
    membership, code = cecilie_invitation
    login(client, anne)
    client.post(url("end_membership", revisorhuset.pk, membership.pk))
    membership.refresh_from_db()
    assert membership.has_left
    login(client, UserFactory(name="Cecilie Ny"))
    assert client.get(url("join", code)).status_code == 410


def test_a_member_leaves_by_themselves(client, login, bo, revisorhuset, bo_member):
    login(client, bo)
    response = client.post(url("end_membership", revisorhuset.pk, bo_member.pk))
    assert response["Location"] == url("overview")
    assert client.get(url("detail", revisorhuset.pk)).status_code == 404


def test_an_employee_cannot_remove_someone_else(client, login, bo, revisorhuset, bo_member, anne_member):
    login(client, bo)
    assert client.get(url("end_membership", revisorhuset.pk, anne_member.pk)).status_code == 403
    assert client.post(url("end_membership", revisorhuset.pk, anne_member.pk)).status_code == 403
    anne_member.refresh_from_db()
    assert not anne_member.has_left


def test_the_last_administrator_cannot_leave(client, login, anne, revisorhuset, anne_member):
    login(client, anne)
    response = client.post(url("end_membership", revisorhuset.pk, anne_member.pk))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    anne_member.refresh_from_db()
    assert not anne_member.has_left


# --- powers of attorney to the organisation ------------------------------------------------------


def test_the_administrator_sees_the_offer_and_accepts_it(client, login, anne, revisorhuset, pending_mandate):
    login(client, anne)
    html = page(client.get(url("mandate", revisorhuset.pk, pending_mandate.pk)))
    assert "Karen Jensen" in html and url("accept", revisorhuset.pk, pending_mandate.pk) in html
    response = client.post(url("accept", revisorhuset.pk, pending_mandate.pk))
    assert response["Location"] == url("mandate", revisorhuset.pk, pending_mandate.pk)
    pending_mandate.refresh_from_db()
    assert pending_mandate.status == Status.ACTIVE and pending_mandate.attorney is None


def test_the_administrator_declines(client, login, anne, revisorhuset, pending_mandate):
    login(client, anne)
    client.post(url("decline", revisorhuset.pk, pending_mandate.pk))
    pending_mandate.refresh_from_db()
    assert pending_mandate.status == Status.DECLINED


def test_an_employee_cannot_accept(client, login, bo, revisorhuset, bo_member, pending_mandate):
    login(client, bo)
    assert client.post(url("accept", revisorhuset.pk, pending_mandate.pk)).status_code == 403
    assert client.post(url("decline", revisorhuset.pk, pending_mandate.pk)).status_code == 403
    pending_mandate.refresh_from_db()
    assert pending_mandate.status == Status.PENDING


def test_the_administrators_notice_link_leads_to_the_organisations_page(
    client, login, anne, revisorhuset, pending_mandate
):
    login(client, anne)
    response = client.get(reverse("attorney:detail", args=[pending_mandate.pk]))
    assert response["Location"] == url("mandate", revisorhuset.pk, pending_mandate.pk)


def test_an_employee_does_not_see_the_mandate_through_the_grantors_page(
    client, login, bo, bo_member, pending_mandate
):
    login(client, bo)
    assert client.get(reverse("attorney:detail", args=[pending_mandate.pk])).status_code == 404


def test_the_start_page_tells_the_administrator_about_offers(
    client, login, anne, bo, bo_member, revisorhuset, pending_mandate
):
    login(client, anne)
    assert url("detail", revisorhuset.pk) in page(client.get(reverse("authorities:start")))
    login(client, bo)
    assert url("detail", revisorhuset.pk) not in page(client.get(reverse("authorities:start")))


def test_the_administrator_resigns_on_the_organisations_behalf(
    client, login, anne, revisorhuset, client_mandate
):
    login(client, anne)
    response = client.post(url("resign", revisorhuset.pk, client_mandate.pk), {"reason": "Kunden er flyttet"})
    assert response["Location"] == url("detail", revisorhuset.pk)
    client_mandate.refresh_from_db()
    assert client_mandate.status == Status.RESIGNED


# --- access to powers of attorney ----------------------------------------------------------------


def test_the_administrator_gives_a_member_access_to_one_mandate(
    client, login, anne, bo, revisorhuset, bo_member, client_mandate
):
    login(client, anne)
    response = client.post(
        url("give_access", revisorhuset.pk),
        {"membership": str(bo_member.pk), "power_of_attorney": str(client_mandate.pk), "tilbage": "fuldmagt"},
    )
    assert response["Location"] == url("mandate", revisorhuset.pk, client_mandate.pk)
    [access] = OrganisationAccess.objects.current().filter(membership=bo_member)
    assert access.power_of_attorney == client_mandate
    assert "Bo Bogholder" in page(client.get(url("mandate", revisorhuset.pk, client_mandate.pk)))


def test_the_administrator_gives_access_to_all(client, login, anne, revisorhuset, bo_member, client_mandate):
    login(client, anne)
    response = client.post(
        url("give_access", revisorhuset.pk), {"membership": str(bo_member.pk), "power_of_attorney": "all"}
    )
    assert response["Location"] == url("member", revisorhuset.pk, bo_member.pk)
    [access] = OrganisationAccess.objects.current().filter(membership=bo_member)
    assert access.is_for_all


def test_giving_the_same_access_twice_shows_an_error(
    client, login, anne, revisorhuset, bo_member, bo_has_access, client_mandate
):
    login(client, anne)
    response = client.post(
        url("give_access", revisorhuset.pk),
        {"membership": str(bo_member.pk), "power_of_attorney": str(client_mandate.pk)},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert OrganisationAccess.objects.filter(membership=bo_member).count() == 1


def test_access_cannot_be_given_to_another_organisations_mandate(
    client, login, anne, revisorhuset, bo_member, dorte, advokathuset, karen, read_mail
):
    other = attorney_services.grant_power_of_attorney_to_organisation(
        acting_user=karen,
        cvr=advokathuset.cvr,
        organisation_name=advokathuset.name,
        rights=[read_mail],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    attorney_services.accept(power_of_attorney=other, acting_user=dorte)
    login(client, anne)
    response = client.post(
        url("give_access", revisorhuset.pk),
        {"membership": str(bo_member.pk), "power_of_attorney": str(other.pk)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["power_of_attorney"]
    assert not OrganisationAccess.objects.filter(membership=bo_member).exists()


def test_an_employee_cannot_give_access(client, login, bo, revisorhuset, bo_member, client_mandate):
    login(client, bo)
    response = client.post(
        url("give_access", revisorhuset.pk), {"membership": str(bo_member.pk), "power_of_attorney": "all"}
    )
    assert response.status_code == 403
    assert not OrganisationAccess.objects.exists()


def test_the_administrator_removes_access(client, login, anne, revisorhuset, bo_member, bo_has_access):
    login(client, anne)
    response = client.post(url("remove_access", revisorhuset.pk, bo_has_access.pk))
    assert response["Location"] == url("member", revisorhuset.pk, bo_member.pk)
    bo_has_access.refresh_from_db()
    assert bo_has_access.removed_by == anne


def test_the_pages_offer_only_access_not_given_yet(
    client, login, anne, revisorhuset, bo_member, bo_has_access, client_mandate
):
    login(client, anne)
    member_form = client.get(url("member", revisorhuset.pk, bo_member.pk)).context["access_form"]
    assert [key for key, _label in member_form.fields["power_of_attorney"].choices] == ["all"]
    mandate_form = client.get(url("mandate", revisorhuset.pk, client_mandate.pk)).context["access_form"]
    assert [label for _key, label in mandate_form.fields["membership"].choices] == ["Anne Revisor"]


def test_access_to_an_ended_power_of_attorney_is_no_longer_listed(
    client, login, anne, karen, revisorhuset, bo_member, bo_has_access, client_mandate
):
    attorney_services.revoke(power_of_attorney=client_mandate, acting_user=karen)
    login(client, anne)
    assert client.get(url("member", revisorhuset.pk, bo_member.pk)).context["access"] == []
    [_anne, bo_row] = client.get(url("detail", revisorhuset.pk)).context["members"]
    assert bo_row.current_access == []


# --- the grantor's side --------------------------------------------------------------------------


def _grant_form(read_mail, **changes) -> dict:
    today = timezone.localdate()
    data = {
        "attorney_kind": "organisation",
        "cvr": "12 34 56 74",
        "organisation_name": "revisorhuset a/s",
        "rights": [read_mail.pk],
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
    }
    return data | changes


def test_karen_gives_a_power_of_attorney_to_an_organisation(
    client, login, karen, anne, revisorhuset, read_mail
):
    login(client, karen)
    response = client.post(reverse("attorney:create"), _grant_form(read_mail))
    assert response["Location"] == reverse("attorney:confirm")
    summary = page(client.get(reverse("attorney:confirm")))
    assert REVISOR_NAME in summary and "12 34 56 74" in summary
    response = client.post(reverse("attorney:confirm"))
    mandate = PowerOfAttorney.objects.get(grantor=karen)
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])
    assert (mandate.organisation, mandate.attorney, mandate.status) == (revisorhuset, None, Status.PENDING)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cvr": "12345675"}, "cvr"),
        ({"cvr": "1234"}, "cvr"),
        ({"cvr": ""}, "cvr"),
        ({"cvr": "23456788"}, "organisation_name"),
        ({"organisation_name": "Revisorhuset ApS"}, "organisation_name"),
        ({"organisation_name": ""}, "organisation_name"),
    ],
)
def test_a_bad_cvr_number_or_name_is_shown_on_its_field_and_creates_nothing(
    client, login, karen, revisorhuset, read_mail, changes, field
):
    login(client, karen)
    response = client.post(reverse("attorney:create"), _grant_form(read_mail, **changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not PowerOfAttorney.objects.exists()


def test_a_person_is_still_the_default_attorney(client, login, karen, peter, read_mail):
    login(client, karen)
    data = _grant_form(
        read_mail, attorney_kind="", attorney_national_id=peter.national_id, attorney_name=peter.name
    )
    assert client.post(reverse("attorney:create"), data)["Location"] == reverse("attorney:confirm")
    client.post(reverse("attorney:confirm"))
    assert PowerOfAttorney.objects.get(grantor=karen).attorney == peter


def test_a_person_attorney_needs_a_cpr_number(client, login, karen, read_mail):
    login(client, karen)
    response = client.post(reverse("attorney:create"), _grant_form(read_mail, attorney_kind="person"))
    assert response.context["form"].errors["attorney_national_id"]


def test_the_grantor_sees_the_organisation_and_who_may_act(
    client, login, karen, client_mandate, bo_has_access
):
    login(client, karen)
    response = client.get(reverse("attorney:detail", args=[client_mandate.pk]))
    assert REVISOR_NAME in page(response) and "12 34 56 74" in page(response)
    # Anne administers it, but has not given herself access.
    assert [person.name for person in response.context["members_acting"]] == ["Bo Bogholder"]
    assert "Bo Bogholder" in page(response)


def test_the_act_for_page_names_the_organisation(client, login, bo, bo_has_access):
    login(client, bo)
    html = page(client.get(reverse("attorney:act_for")))
    assert "Karen Jensen" in html and f"{REVISOR_NAME} (CVR 12 34 56 74)" in html


@pytest.fixture
def bo_read_karens_letter(client, login, karen, bo, skat, bo_has_access):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Restskat", body="Betal")
    login(client, bo)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert client.get(reverse("authorities:letter", args=[letter.pk])).status_code == 200
    return letter


def test_done_in_my_name_names_the_employee_and_the_organisation(client, login, karen, bo_read_karens_letter):
    login(client, karen)
    html = page(client.get(reverse("authorities:done_in_my_name")))
    assert f"Bo Bogholder (for {REVISOR_NAME}, CVR 12 34 56 74)" in html


def test_done_for_others_names_the_organisation(client, login, bo, bo_read_karens_letter):
    login(client, bo)
    html = page(client.get(reverse("authorities:done_for_others")))
    assert "Karen Jensen (" in html and f"{REVISOR_NAME}, CVR 12 34 56 74)" in html


# --- the page reads a fixed number of queries ------------------------------------------------------


def _add_member_and_client(n: int, *, anne, revisorhuset, right):
    employee = UserFactory(name=f"Medarbejder {n}")
    _membership, code = services.invite_member(
        acting_user=anne, organisation=revisorhuset, name=employee.name, email=f"m{n}@r.dk"
    )
    membership = services.join_organisation(acting_user=employee, code=code)
    services.invite_member(
        acting_user=anne, organisation=revisorhuset, name=f"Inviteret {n}", email=f"i{n}@r.dk"
    )
    client_person = UserFactory(name=f"Klient {n}")
    mandate = attorney_services.accept(
        power_of_attorney=grant_to_organisation(client_person, [right]), acting_user=anne
    )
    grant_to_organisation(UserFactory(name=f"Ny klient {n}"), [right])
    attorney_services.give_organisation_access(
        acting_user=anne, membership=membership, power_of_attorney=mandate
    )
    if n % 2 == 0:  # Anne may act for some of the clients herself
        attorney_services.give_organisation_access(
            acting_user=anne, membership=revisorhuset.memberships.get(user=anne), power_of_attorney=mandate
        )


def test_the_organisation_page_reads_as_many_queries_for_six_members_and_mandates_as_for_one(
    client, anne, revisorhuset, skat
):
    right = RightFactory(service=ServiceFactory(authority=skat, slug="post"), code="skat.post")
    client.force_login(anne)
    _add_member_and_client(0, anne=anne, revisorhuset=revisorhuset, right=right)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("detail", revisorhuset.pk)).status_code == 200
    for n in range(1, 6):
        _add_member_and_client(n, anne=anne, revisorhuset=revisorhuset, right=right)
    with CaptureQueriesContext(connection) as six:
        response = client.get(url("detail", revisorhuset.pk))
    assert "Medarbejder 5" in page(response) and "Ny klient 5" in page(response)
    assert len(six) == len(one), [q["sql"][:120] for q in six.captured_queries]


def test_the_mandate_page_reads_as_many_queries_for_six_members_as_for_one(
    client, anne, revisorhuset, client_mandate
):
    client.force_login(anne)

    def add(n):
        employee = UserFactory(name=f"Medarbejder {n}")
        _m, code = services.invite_member(
            acting_user=anne, organisation=revisorhuset, name=employee.name, email=f"m{n}@r.dk"
        )
        membership = services.join_organisation(acting_user=employee, code=code)
        attorney_services.give_organisation_access(
            acting_user=anne, membership=membership, power_of_attorney=client_mandate if n % 2 else None
        )

    add(0)
    with CaptureQueriesContext(connection) as one:
        client.get(url("mandate", revisorhuset.pk, client_mandate.pk))
    for n in range(1, 6):
        add(n)
    with CaptureQueriesContext(connection) as six:
        response = client.get(url("mandate", revisorhuset.pk, client_mandate.pk))
    assert "Medarbejder 5" in page(response)
    assert len(six) == len(one), [q["sql"][:120] for q in six.captured_queries]


def test_the_organisation_is_given_by_cvr_number(revisorhuset):
    assert revisorhuset.cvr == REVISOR_CVR
