import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from attorney import services
from attorney.middleware import ACTING_FOR_SESSION_KEY
from attorney.models import AttorneyRequest, PowerOfAttorney, RequestStatus, Status

from ..conftest import grant
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# --- the denial matrix -------------------------------------------------------------------------


@pytest.fixture
def caseworker(db):
    return UserFactory(is_staff=True, national_id=None)


@pytest.fixture
def mandate_in_state(karen, peter, read_mail, time_machine):
    def _make(state: str) -> PowerOfAttorney:
        mandate = grant(karen, peter, [read_mail], days=1)
        if state == "pending":
            return mandate
        if state == "declined":
            return services.decline(power_of_attorney=mandate, acting_user=peter)
        mandate = services.accept(power_of_attorney=mandate, acting_user=peter)
        if state == "revoked":
            services.revoke(power_of_attorney=mandate, acting_user=karen)
        if state == "expired":
            time_machine.move_to(mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
        return mandate

    return _make


def as_person(client, login, who, karen, peter, ole, caseworker):
    person = {"grantor": karen, "attorney": peter, "other citizen": ole, "caseworker": caseworker}.get(who)
    if person is not None:
        login(client, person)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("grantor", 200), ("attorney", 200), ("other citizen", 404), ("caseworker", 403)],
)
def test_mandate_page_is_only_for_its_parties(
    client, login, active_mandate, karen, peter, ole, caseworker, who, expected
):
    as_person(client, login, who, karen, peter, ole, caseworker)
    assert client.get(reverse("attorney:detail", args=[active_mandate.pk])).status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("grantor", 200), ("attorney", 404), ("other citizen", 404), ("caseworker", 403)],
)
def test_revoke_page_is_only_for_the_grantor(
    client, login, active_mandate, karen, peter, ole, caseworker, who, expected
):
    as_person(client, login, who, karen, peter, ole, caseworker)
    assert client.get(reverse("attorney:revoke", args=[active_mandate.pk])).status_code == expected


@pytest.mark.parametrize("who", ["attorney", "other citizen", "caseworker"])
def test_revoke_by_anyone_but_the_grantor_changes_nothing(
    client, login, active_mandate, karen, peter, ole, caseworker, who
):
    as_person(client, login, who, karen, peter, ole, caseworker)
    response = client.post(reverse("attorney:revoke", args=[active_mandate.pk]), {"reason": ""})
    # A caseworker's account has no verified CPR number: every page here answers it with 403.
    assert response.status_code == (403 if who == "caseworker" else 404)
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("grantor", 404), ("attorney", 200), ("other citizen", 404), ("caseworker", 403)],
)
def test_resign_page_is_only_for_the_attorney(
    client, login, active_mandate, karen, peter, ole, caseworker, who, expected
):
    as_person(client, login, who, karen, peter, ole, caseworker)
    assert client.get(reverse("attorney:resign", args=[active_mandate.pk])).status_code == expected


@pytest.mark.parametrize("who", ["grantor", "other citizen", "caseworker"])
def test_only_the_addressee_can_accept(client, login, karen, peter, ole, caseworker, read_mail, who):
    mandate = grant(karen, peter, [read_mail])
    as_person(client, login, who, karen, peter, ole, caseworker)
    expected = 403 if who == "caseworker" else 404
    assert client.post(reverse("attorney:accept", args=[mandate.pk])).status_code == expected
    mandate.refresh_from_db()
    assert mandate.status == Status.PENDING


@pytest.mark.parametrize("who", ["grantor", "other citizen", "caseworker"])
def test_act_for_switch_is_refused_to_people_without_a_mandate(
    client, login, active_mandate, karen, peter, ole, caseworker, who
):
    as_person(client, login, who, karen, peter, ole, caseworker)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert ACTING_FOR_SESSION_KEY not in client.session
    expected = 403 if who == "caseworker" else 404
    assert client.get(reverse("attorney:use_right", args=["skat.read_mail"])).status_code == expected


def test_act_for_switch_needs_login(client, active_mandate, karen):
    response = client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("state", ["pending", "declined", "revoked", "expired"])
def test_act_for_switch_is_refused_when_the_mandate_is_not_in_force(
    client, login, mandate_in_state, karen, peter, state
):
    mandate_in_state(state)
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_act_for_switch_with_an_active_mandate_shows_the_banner(client, login, active_mandate, karen, peter):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert client.session[ACTING_FOR_SESSION_KEY] == karen.pk
    html = client.get(reverse("home")).content.decode()
    assert "Karen Jensen" in html
    assert reverse("attorney:stop_acting") in html


def test_forged_session_value_for_someone_else_is_dropped(client, login, active_mandate, ole, peter):
    login(client, peter)
    session = client.session
    session[ACTING_FOR_SESSION_KEY] = ole.pk
    session.save()
    client.get(reverse("home"))
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_stop_acting_clears_the_choice(client, login, active_mandate, karen, peter):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    client.post(reverse("attorney:stop_acting"))
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_missing_right_is_explained_with_a_prefilled_request(
    client, login, active_mandate, karen, peter, kommune_mail
):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    client.cookies["django_language"] = "en"
    response = client.get(reverse("attorney:use_right", args=["kobenhavns-kommune.read_mail"]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "does not cover this" in html
    assert "right=kobenhavns-kommune.read_mail" in html
    form = client.get(response.context["request_url"]).context["form"]
    assert form.initial["grantor_national_id"] == karen.national_id
    assert form.initial["rights"] == [kommune_mail.pk]


# --- giving a power of attorney -----------------------------------------------------------------


def grant_form(peter, read_mail, **changes):
    data = {
        "attorney_national_id": "150375-2345",
        "attorney_name": peter.name,
        "rights": [read_mail.pk],
        "valid_from": in_days(0),
        "valid_until": in_days(90),
    }
    data.update(changes)
    return data


def test_grantor_creates_a_mandate_through_form_summary_and_confirmation(
    client, login, karen, peter, read_mail
):
    login(client, karen)
    response = client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    assert response["Location"] == reverse("attorney:confirm")
    summary = client.get(reverse("attorney:confirm"))
    assert peter.name in summary.content.decode()
    assert not PowerOfAttorney.objects.exists()
    response = client.post(reverse("attorney:confirm"))
    mandate = PowerOfAttorney.objects.get()
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])
    assert mandate.status == Status.PENDING
    assert mandate.attorney == peter
    assert list(mandate.rights.all()) == [read_mail]
    assert timezone.localtime(mandate.valid_until).date() == timezone.localdate() + datetime.timedelta(
        days=90
    )


def test_all_rights_at_an_authority_selects_each_of_them(
    client, login, karen, peter, read_mail, tax_statement, skat
):
    login(client, karen)
    client.post(reverse("attorney:create"), grant_form(peter, read_mail, rights=[], all_rights_at=[skat.pk]))
    client.post(reverse("attorney:confirm"))
    assert set(PowerOfAttorney.objects.get().rights.all()) == {read_mail, tax_statement}


def test_confirmation_asks_for_the_password_again_after_a_while(
    client, login, karen, peter, read_mail, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, karen)
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=10), tick=False)
    response = client.post(reverse("attorney:confirm"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not PowerOfAttorney.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"attorney_national_id": "010245-1234", "attorney_name": "Karen Jensen"}, "attorney_national_id"),
        ({"attorney_national_id": "999999-9999"}, "attorney_national_id"),
        ({"rights": []}, "rights"),
        ({"rights": ["999999"]}, "rights"),
        ({"rights": ["abc"]}, "rights"),
        ({"valid_until": in_days(-1)}, "valid_until"),
        ({"valid_from": in_days(10), "valid_until": in_days(5)}, "valid_until"),
        ({"valid_from": in_days(-3)}, "valid_from"),
        ({"valid_until": in_days(365 * 11)}, "valid_until"),
        ({"valid_until": "not a date"}, "valid_until"),
    ],
)
def test_bad_input_on_the_grant_pages_explains_and_saves_nothing(
    client, login, karen, peter, read_mail, changes, field
):
    login(client, karen)
    response = client.post(reverse("attorney:create"), grant_form(peter, read_mail, **changes))
    if response.status_code == 302:  # the service's own checks run at confirmation
        response = client.post(reverse("attorney:confirm"), follow=True)
        assert response.status_code == 200
        assert response.context["messages"]
    else:
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert 'class="form-error-message"' in response.content.decode()
    assert not PowerOfAttorney.objects.exists()


def test_revoke_through_the_page_needs_confirmation(client, login, active_mandate, karen, peter):
    login(client, karen)
    page = client.get(reverse("attorney:revoke", args=[active_mandate.pk]))
    assert page.status_code == 200
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE
    client.post(reverse("attorney:revoke", args=[active_mandate.pk]), {"reason": "Ikke nødvendig"})
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.REVOKED


def test_attorney_accepts_through_the_invitation_page(client, login, karen, peter, read_mail):
    mandate = grant(karen, peter, [read_mail])
    login(client, peter)
    assert client.get(reverse("attorney:invitation", args=[mandate.pk])).status_code == 200
    client.post(reverse("attorney:accept", args=[mandate.pk]))
    mandate.refresh_from_db()
    assert mandate.status == Status.ACTIVE


def test_renew_through_the_page(client, login, active_mandate, karen):
    login(client, karen)
    response = client.post(reverse("attorney:renew", args=[active_mandate.pk]), {"valid_until": in_days(900)})
    new = PowerOfAttorney.objects.get(replaces=active_mandate)
    assert response["Location"] == reverse("attorney:detail", args=[new.pk])
    assert new.status == Status.ACTIVE


def test_renew_with_a_bad_date_changes_nothing(client, login, active_mandate, karen):
    login(client, karen)
    client.post(reverse("attorney:renew", args=[active_mandate.pk]), {"valid_until": "31-02-2027"})
    assert PowerOfAttorney.objects.count() == 1


def test_overview_groups_given_and_received(client, login, active_mandate, karen, peter):
    login(client, karen)
    response = client.get(reverse("attorney:overview"))
    assert response.status_code == 200
    assert [m.pk for _label, ms in response.context["given_groups"] for m in ms] == [active_mandate.pk]
    login(client, peter)
    response = client.get(reverse("attorney:overview"))
    assert [m.pk for _label, ms in response.context["received_groups"] for m in ms] == [active_mandate.pk]


# --- requests from a relative ------------------------------------------------------------------


def request_form(karen, read_mail, **changes):
    data = {
        "grantor_national_id": "010245-1234",
        "grantor_name": karen.name,
        "rights": [read_mail.pk],
        "valid_until": in_days(365),
        "message": "Mor, må jeg hjælpe dig med posten?",
    }
    data.update(changes)
    return data


def test_request_approved_with_fewer_rights(client, login, karen, peter, read_mail, tax_statement):
    login(client, peter)
    client.post(
        reverse("attorney:request_create"),
        request_form(karen, read_mail, rights=[read_mail.pk, tax_statement.pk]),
    )
    attorney_request = AttorneyRequest.objects.get()
    login(client, karen)
    response = client.post(
        reverse("attorney:request_answer", args=[attorney_request.pk]),
        {"decision": "approve", "rights": [read_mail.pk], "valid_until": in_days(100)},
    )
    mandate = PowerOfAttorney.objects.get()
    assert response["Location"] == reverse("attorney:detail", args=[mandate.pk])
    assert mandate.status == Status.ACTIVE
    assert list(mandate.rights.all()) == [read_mail]
    attorney_request.refresh_from_db()
    assert attorney_request.status == RequestStatus.APPROVED


def test_request_answer_refuses_rights_that_were_not_asked_for(
    client, login, karen, peter, read_mail, tax_statement
):
    services.request_power_of_attorney(
        acting_user=peter,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        rights=[read_mail],
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    login(client, karen)
    response = client.post(
        reverse("attorney:request_answer", args=[AttorneyRequest.objects.get().pk]),
        {"decision": "approve", "rights": [tax_statement.pk], "valid_until": in_days(10)},
    )
    assert response.status_code == 200
    assert "rights" in response.context["form"].errors
    assert not PowerOfAttorney.objects.exists()


def test_someone_else_cannot_answer_a_request(client, login, karen, peter, ole, read_mail):
    attorney_request = services.request_power_of_attorney(
        acting_user=peter,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        rights=[read_mail],
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    login(client, ole)
    url = reverse("attorney:request_answer", args=[attorney_request.pk])
    assert client.post(url, {"decision": "reject"}).status_code == 404
    attorney_request.refresh_from_db()
    assert attorney_request.status == RequestStatus.PENDING


def ask(requester, grantor, right):
    return services.request_power_of_attorney(
        acting_user=requester,
        grantor_national_id=grantor.national_id,
        grantor_name=grantor.name,
        rights=[right],
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )


def test_no_new_request_for_30_days_after_a_rejection(karen, peter, read_mail, time_machine):
    from django.core.exceptions import ValidationError

    services.reject_request(attorney_request=ask(peter, karen, read_mail), acting_user=karen)
    with pytest.raises(ValidationError):
        ask(peter, karen, read_mail)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=31))
    ask(peter, karen, read_mail)


def test_a_blocked_requester_cannot_ask_again(karen, peter, read_mail, time_machine):
    from django.core.exceptions import ValidationError

    services.reject_request(attorney_request=ask(peter, karen, read_mail), acting_user=karen, block=True)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=400))
    with pytest.raises(ValidationError):
        ask(peter, karen, read_mail)


def test_open_requests_per_requester_are_capped(settings, peter, read_mail):
    from django.core.exceptions import ValidationError

    settings.ATTORNEY_REQUEST_MAX_OPEN = 2
    for _ in range(2):
        ask(peter, UserFactory(), read_mail)
    with pytest.raises(ValidationError):
        ask(peter, UserFactory(), read_mail)
    assert AttorneyRequest.objects.count() == 2


def test_request_with_unknown_person_explains_and_saves_nothing(client, login, karen, peter, read_mail):
    login(client, peter)
    response = client.post(
        reverse("attorney:request_create"), request_form(karen, read_mail, grantor_name="Someone Else")
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not AttorneyRequest.objects.exists()


def test_going_back_from_the_summary_keeps_what_was_typed(client, login, karen, peter, read_mail):
    login(client, karen)
    client.post(reverse("attorney:create"), grant_form(peter, read_mail))
    form = client.get(reverse("attorney:create")).context["form"]
    assert form.initial["attorney_name"] == peter.name
    assert form.initial["rights"] == [read_mail.pk]
