import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from authorities.clients.services import create_api_client, revoke_api_client
from authorities.models import ApiClient, Letter
from portal.models import AuditEvent

from ..conftest import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


@pytest.fixture
def kommune_token(kommune):
    return create_api_client(authority=kommune, name="KK system")[1]


@pytest.fixture
def api(client):
    def call(method, name, token=None, data=None, raw=None, **query):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        url = reverse(f"api:{name}")
        if method == "get":
            return client.get(url, query, **headers)
        body = raw if raw is not None else json.dumps(data)
        return client.post(url, body, content_type="application/json", **headers)

    return call


def ask(api, token, actor, principal, right, **extra):
    return api("post", "decisions", token, {"actor": actor, "principal": principal, "right": right, **extra})


KAREN, PETER, OLE = "010245-1234", "1503752345", "2308603456"


# --- access ---------------------------------------------------------------------------------


def test_no_token_is_401(api, karen, read_mail):
    response = ask(api, None, PETER, KAREN, "skat.read_mail")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["wrong", "fmt_" + "x" * 43])
def test_bad_token_is_401(api, read_mail, token):
    assert ask(api, token, PETER, KAREN, "skat.read_mail").status_code == 401


def test_malformed_authorization_header_is_401(client, read_mail):
    response = client.post(
        reverse("api:decisions"), "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer a b"
    )
    assert response.status_code == 401


def test_revoked_token_stops_working_at_the_next_request(api, skat, skat_token, read_mail, karen, peter):
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").status_code == 200
    revoke_api_client(client=ApiClient.objects.get(), acting_user=None)
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").status_code == 401


def test_only_a_hash_of_the_token_is_stored(skat_token):
    client = ApiClient.objects.get()
    assert skat_token not in (client.token_hash, client.token_prefix)
    assert client.token_hash != skat_token


def test_create_api_token_command_prints_a_working_token(api, skat, read_mail, capsys):
    from django.core.management import call_command

    call_command("create_api_token", "skat", "--name", "Test")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert ask(api, token, PETER, KAREN, "skat.read_mail").status_code == 200


def test_create_api_token_for_unknown_authority_fails_clearly():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("create_api_token", "no-such-authority")


def test_asking_about_another_authoritys_right_is_403(api, kommune_token, read_mail, kommune_mail):
    response = ask(api, kommune_token, PETER, KAREN, "skat.read_mail")
    assert response.status_code == 403
    assert "skat.read_mail" in response.json()["detail"]


def test_throttling_answers_429_with_retry_after(api, settings, skat_token, read_mail):
    from rest_framework.settings import api_settings

    from authorities.api.throttling import ApiClientRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "api_client": "3/min"}
    ApiClientRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [ask(api, skat_token, PETER, KAREN, "skat.read_mail").status_code for _ in range(4)]
        response = ask(api, skat_token, PETER, KAREN, "skat.read_mail")
    finally:
        ApiClientRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_throttling_is_per_client(api, skat, read_mail):
    from rest_framework.settings import api_settings

    from authorities.api.throttling import ApiClientRateThrottle

    first, second = (
        create_api_client(authority=skat, name="a")[1],
        create_api_client(authority=skat, name="b")[1],
    )
    ApiClientRateThrottle.THROTTLE_RATES = {"api_client": "1/min"}
    try:
        assert ask(api, first, PETER, KAREN, "skat.read_mail").status_code == 200
        assert ask(api, first, PETER, KAREN, "skat.read_mail").status_code == 429
        assert ask(api, second, PETER, KAREN, "skat.read_mail").status_code == 200
    finally:
        ApiClientRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


# --- decisions ------------------------------------------------------------------------------


def test_permit_under_an_active_mandate(api, skat_token, active_mandate):
    answer = ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()
    assert datetime.datetime.fromisoformat(answer.pop("valid_until")) == active_mandate.valid_until
    assert answer == {
        "decision": "permit",
        "reason": "power_of_attorney",
        "basis": "power_of_attorney",
        "power_of_attorney": str(active_mandate.pk),
    }


def test_actor_equal_to_principal_is_permitted_without_a_mandate(api, skat_token, read_mail):
    answer = ask(api, skat_token, KAREN, "0102451234", "skat.read_mail").json()
    assert answer == {
        "decision": "permit",
        "reason": "self",
        "basis": "self",
        "power_of_attorney": None,
        "valid_until": None,
    }


def test_unknown_people_are_denied_like_no_mandate(api, skat_token, karen, read_mail):
    unknown = ask(api, skat_token, "120390-4567", KAREN, "skat.read_mail").json()
    known = ask(api, skat_token, OLE, KAREN, "skat.read_mail").json()
    assert unknown == known
    assert unknown["decision"] == "deny"
    assert unknown["reason"] == "no_power_of_attorney"
    assert unknown["power_of_attorney"] is None


def test_right_not_granted(api, skat_token, karen, peter, read_mail, tax_statement):
    attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    assert ask(api, skat_token, PETER, KAREN, tax_statement.code).json()["reason"] == "right_not_granted"


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("pending", "no_power_of_attorney"),
        ("declined", "no_power_of_attorney"),
        ("revoked", "revoked"),
        ("resigned", "revoked"),
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
    ],
)
def test_deny_for_every_mandate_state(api, skat_token, karen, peter, read_mail, time_machine, state, reason):
    if state == "not_yet_valid":
        attorney_services.accept(
            power_of_attorney=grant(karen, peter, [read_mail], start_in_days=2), acting_user=peter
        )
    else:
        mandate = grant(karen, peter, [read_mail], days=1)
        if state == "declined":
            attorney_services.decline(power_of_attorney=mandate, acting_user=peter)
        elif state != "pending":
            attorney_services.accept(power_of_attorney=mandate, acting_user=peter)
        if state == "revoked":
            attorney_services.revoke(power_of_attorney=mandate, acting_user=karen)
        elif state == "resigned":
            attorney_services.resign(power_of_attorney=mandate, acting_user=peter)
        elif state == "expired":
            time_machine.move_to(mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    answer = ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()
    assert (answer["decision"], answer["reason"]) == ("deny", reason)


def test_time_boundary_of_valid_until(api, skat_token, karen, peter, read_mail, time_machine):
    mandate = attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail], days=1), acting_user=peter
    )
    time_machine.move_to(mandate.valid_until - datetime.timedelta(seconds=1), tick=False)
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()["decision"] == "permit"
    time_machine.move_to(mandate.valid_until, tick=False)
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()["decision"] == "deny"


def test_asking_about_a_past_moment_is_answered_from_history(api, skat_token, active_mandate, karen):
    during = timezone.now()
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()["decision"] == "deny"
    past = ask(api, skat_token, PETER, KAREN, "skat.read_mail", at=during.isoformat()).json()
    assert past["decision"] == "permit"


def test_answers_reveal_nothing_about_other_authorities(
    api, kommune_token, karen, peter, read_mail, kommune_mail
):
    # Peter holds only a skat right; the municipality must hear "no power of attorney", not "right not granted".
    attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    answer = ask(api, kommune_token, PETER, KAREN, "kobenhavns-kommune.read_mail").json()
    assert answer == {
        "decision": "deny",
        "reason": "no_power_of_attorney",
        "basis": None,
        "power_of_attorney": None,
        "valid_until": None,
    }


def test_batch_answers_in_order(api, skat_token, active_mandate, kommune_mail):
    questions = [
        {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": OLE, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": KAREN, "principal": KAREN, "right": "skat.view_tax_assessment"},
    ]
    response = api("post", "decisions_batch", skat_token, {"questions": questions})
    assert response.status_code == 200
    assert [a["decision"] for a in response.json()["answers"]] == ["permit", "deny", "permit"]


def test_batch_with_another_authoritys_right_is_403(api, skat_token, read_mail, kommune_mail):
    questions = [{"actor": PETER, "principal": KAREN, "right": "kobenhavns-kommune.read_mail"}]
    assert api("post", "decisions_batch", skat_token, {"questions": questions}).status_code == 403


def test_every_call_is_audited_without_cpr_numbers(api, skat_token, active_mandate):
    ask(api, skat_token, PETER, KAREN, "skat.read_mail")
    event = AuditEvent.objects.get(action="api.decision")
    assert event.details["decision"] == "permit"
    assert event.authority.slug == "skat"
    assert "1503752345" not in json.dumps(event.details)
    assert "0102451234" not in json.dumps(event.details)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"principal": KAREN, "right": "skat.read_mail"}, "actor"),
        ({"actor": "12345", "principal": KAREN, "right": "skat.read_mail"}, "actor"),
        ({"actor": PETER, "principal": "320145-1234", "right": "skat.read_mail"}, "principal"),
        ({"actor": PETER, "principal": KAREN, "right": "skat.no_such_right"}, "right"),
        ({"actor": PETER, "principal": KAREN, "right": ["x"]}, "right"),
        ({"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "at": "yesterday"}, "at"),
        ({"actor": 1503752345, "principal": KAREN, "right": "skat.read_mail"}, "actor"),
    ],
)
def test_bad_decision_input_is_400_naming_the_field(api, skat_token, read_mail, body, field):
    response = api("post", "decisions", skat_token, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "null", ""])
def test_malformed_json_is_400(api, skat_token, read_mail, raw):
    response = api("post", "decisions", skat_token, raw=raw)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_oversized_body_is_400(api, skat_token, read_mail):
    response = api("post", "letters", skat_token, {"recipient": KAREN, "subject": "x", "body": "x" * 300_000})
    assert response.status_code == 400
    assert "detail" in response.json()


def test_more_than_100_questions_is_400(api, skat_token, read_mail):
    questions = [{"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}] * 101
    response = api("post", "decisions_batch", skat_token, {"questions": questions})
    assert response.status_code == 400
    assert "questions" in response.json()["errors"]


def test_empty_batch_is_400(api, skat_token):
    assert api("post", "decisions_batch", skat_token, {"questions": []}).status_code == 400


# --- mandates -------------------------------------------------------------------------------


def test_mandate_list_shows_only_the_callers_rights(api, skat_token, karen, peter, read_mail, kommune_mail):
    mandate = attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    response = api("get", "powers_of_attorney", skat_token, principal=KAREN)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(mandate.pk)]
    assert results[0]["rights"] == ["skat.read_mail"]
    assert results[0]["attorney"] == "1503752345"


def test_mandate_list_by_attorney(api, skat_token, active_mandate):
    results = api("get", "powers_of_attorney", skat_token, attorney=PETER).json()["results"]
    assert [r["id"] for r in results] == [str(active_mandate.pk)]
    assert results[0]["joint"] is None


def test_mandate_list_says_when_attorneys_must_act_together(api, skat_token, karen, peter, ole, read_mail):
    now = timezone.now()
    appointment = attorney_services.grant_joint_power_of_attorney(
        acting_user=karen,
        attorneys=[(peter.national_id, peter.name), (ole.national_id, ole.name)],
        mode="jointly",
        rights=[read_mail],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=30),
    )
    for mandate in appointment.mandates.all():
        attorney_services.accept(power_of_attorney=mandate, acting_user=mandate.attorney)
    results = api("get", "powers_of_attorney", skat_token, principal=KAREN).json()["results"]
    assert sorted((r["attorney_name"], r["joint"]) for r in results) == [
        ("Ole Hansen", "jointly"),
        ("Peter Jensen", "jointly"),
    ]


def test_mandate_list_leaves_out_other_authorities_and_ended_mandates(
    api, kommune_token, skat_token, active_mandate, karen
):
    assert api("get", "powers_of_attorney", kommune_token, principal=KAREN).json()["results"] == []
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    assert api("get", "powers_of_attorney", skat_token, principal=KAREN).json()["results"] == []


def test_mandate_list_is_cursor_paginated(api, skat_token, karen, read_mail, tax_statement):
    from ..factories import UserFactory

    for _ in range(3):
        attorney = UserFactory()
        attorney_services.accept(power_of_attorney=grant(karen, attorney, [read_mail]), acting_user=attorney)
    from authorities.api.views import MandatePagination

    MandatePagination.page_size = 2
    try:
        first = api("get", "powers_of_attorney", skat_token, principal=KAREN).json()
        assert len(first["results"]) == 2
        assert first["next"]
    finally:
        MandatePagination.page_size = 50


@pytest.mark.parametrize("query", [{}, {"principal": KAREN, "attorney": PETER}, {"principal": "abc"}])
def test_mandate_list_needs_exactly_one_valid_cpr(api, skat_token, query):
    assert api("get", "powers_of_attorney", skat_token, **query).status_code == 400


# --- letters --------------------------------------------------------------------------------


def test_delivered_letter_reaches_the_inbox_and_attorneys_with_read_mail(
    api, skat_token, active_mandate, karen, client, login, peter
):
    response = api(
        "post", "letters", skat_token, {"recipient": KAREN, "subject": "Restskat", "body": "Betal"}
    )
    assert response.status_code == 201
    letter = Letter.objects.get(pk=response.json()["id"])
    assert letter.citizen_file.citizen == karen
    assert letter.citizen_file.authority.slug == "skat"
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert client.get(reverse("authorities:letter", args=[letter.pk])).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recipient": "120390-4567", "subject": "x", "body": "y"}, "recipient"),
        ({"recipient": "nonsense", "subject": "x", "body": "y"}, "recipient"),
        ({"recipient": KAREN, "subject": "", "body": "y"}, "subject"),
        ({"recipient": KAREN, "subject": "x"}, "body"),
        ({"recipient": KAREN, "subject": "x" * 301, "body": "y"}, "subject"),
    ],
)
def test_bad_letter_is_400_and_saves_nothing(api, skat_token, karen, body, field):
    response = api("post", "letters", skat_token, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Letter.objects.exists()


# --- schema ---------------------------------------------------------------------------------


def test_schema_and_docs_are_served(client):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert client.get(reverse("api:docs")).status_code == 200


def test_a_mandate_without_its_object_permission_is_denied(api, skat_token, active_mandate):
    from authorities.models import CitizenFileUserObjectPermission

    # Both must agree: an active mandate whose guardian permission row is missing does not permit.
    CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=active_mandate).delete()
    assert ask(api, skat_token, PETER, KAREN, "skat.read_mail").json()["decision"] == "deny"


def test_a_right_created_after_a_failed_lookup_is_found(api, skat_token, read_mail):
    from ..factories import RightFactory

    assert ask(api, skat_token, PETER, KAREN, "skat.new_right").status_code == 400
    RightFactory(service=read_mail.service, code="skat.new_right")
    assert ask(api, skat_token, PETER, KAREN, "skat.new_right").status_code == 200


@pytest.mark.parametrize("right", ['\x00"', "skat.read_mail\x00", "x" * 500, "SKAT.READ_MAIL"])
def test_a_right_that_cannot_be_a_code_is_400_not_a_server_error(api, skat_token, read_mail, right):
    response = ask(api, skat_token, PETER, KAREN, right)
    assert response.status_code == 400
    assert "right" in response.json()["errors"]


def test_a_data_category_with_a_nul_character_is_400(api, skat_token):
    body = {"citizen": KAREN, "category": "skat.income\x00", "purpose_da": "a", "purpose_en": "b", "days": 1}
    response = api("post", "consent_requests", skat_token, body)
    assert response.status_code == 400
    assert "category" in response.json()["errors"]
