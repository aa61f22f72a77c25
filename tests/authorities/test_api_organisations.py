"""The authority API and organisations as attorneys: a question may name the organisation the actor
acts for (``on_behalf_of_organisation``); then only that organisation's powers of attorney count, used
by the actor as a member with access. Without it, an organisation's mandate permits nobody."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from authorities.api.serializers import DECISION_REASONS
from authorities.clients.services import create_api_client
from organisations import services as organisation_services
from portal.models import AuditEvent

from ..factories import UserFactory
from ..organisations.conftest import REVISOR_CVR, REVISOR_NAME, grant_to_organisation

pytestmark = pytest.mark.django_db

KAREN, BO, PETER = "0102451234", "0309905678", "1503752345"
LUND_CVR, LUND_NAME = "23456788", "Advokatfirmaet Lund ApS"


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


@pytest.fixture
def decide(client, skat_token):
    def call(actor, principal, right="skat.read_mail", *, language="en", **extra):
        return client.post(
            reverse("api:decisions"),
            json.dumps({"actor": actor, "principal": principal, "right": right, **extra}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {skat_token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    return call


@pytest.fixture
def mandates(client, skat_token):
    def call(**query):
        return client.get(reverse("api:powers_of_attorney"), query, HTTP_AUTHORIZATION=f"Bearer {skat_token}")

    return call


@pytest.fixture
def bo_with_access(client_mandate, bo_member, anne):
    """Anne has let Bo use Karen's power of attorney to Revisorhuset."""
    return attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )


@pytest.fixture
def lund(registrar):
    """Another organisation, with Lise Lund as its administrator (she has joined)."""
    lise = UserFactory(name="Lise Lund", email="lise@lund.dk")
    organisation, code = organisation_services.register_organisation(
        acting_user=registrar,
        cvr=LUND_CVR,
        name=LUND_NAME,
        administrator_national_id=lise.national_id,
        administrator_name=lise.name,
        administrator_email=lise.email,
    )
    organisation_services.join_organisation(acting_user=lise, code=code)
    organisation.administrator = lise
    return organisation


def on_behalf(cvr=REVISOR_CVR):
    return {"on_behalf_of_organisation": cvr}


# --- permits ------------------------------------------------------------------------------------


def test_a_member_with_access_is_permitted_on_the_organisations_behalf(
    decide, bo_with_access, client_mandate
):
    answer = decide(BO, KAREN, **on_behalf()).json()
    assert datetime.datetime.fromisoformat(answer.pop("valid_until")) == client_mandate.valid_until
    assert answer == {
        "decision": "permit",
        "reason": "power_of_attorney",
        "basis": "power_of_attorney",
        "power_of_attorney": str(client_mandate.pk),
        "on_behalf_of_organisation": {"cvr": REVISOR_CVR, "name": REVISOR_NAME},
    }


@pytest.mark.parametrize("written", ["12 34 56 74", "DK12345674", " dk 12345674 "])
def test_the_cvr_number_may_be_written_as_printed_and_is_answered_as_8_digits(
    decide, bo_with_access, written
):
    answer = decide(BO, KAREN, **on_behalf(written)).json()
    assert answer["decision"] == "permit"
    assert answer["on_behalf_of_organisation"]["cvr"] == REVISOR_CVR


def test_access_to_all_the_organisations_mandates_permits(decide, client_mandate, bo_member, anne):
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    assert decide(BO, KAREN, **on_behalf()).json()["decision"] == "permit"


def test_a_past_moment_is_answered_from_the_history_of_access(decide, bo_with_access, anne):
    during = timezone.now()
    attorney_services.remove_organisation_access(acting_user=anne, access=bo_with_access)
    assert decide(BO, KAREN, **on_behalf()).json()["decision"] == "deny"
    assert decide(BO, KAREN, at=during.isoformat(), **on_behalf()).json()["decision"] == "permit"


def test_a_question_without_an_organisation_is_answered_as_before(decide, active_mandate):
    # The field is new: clients that do not send it get exactly the answer they always got.
    answer = decide(PETER, KAREN).json()
    assert set(answer) == {"decision", "reason", "basis", "power_of_attorney", "valid_until"}


# --- denials ------------------------------------------------------------------------------------


def test_a_member_without_access_is_told_so(decide, client_mandate, bo_member):
    answer = decide(BO, KAREN, **on_behalf()).json()
    assert answer == {
        "decision": "deny",
        "reason": "no_organisation_access",
        "basis": None,
        "power_of_attorney": str(client_mandate.pk),
        "valid_until": answer["valid_until"],
        "on_behalf_of_organisation": {"cvr": REVISOR_CVR, "name": None},
    }


def test_access_to_another_clients_mandate_does_not_reach_this_client(
    decide, client_mandate, bo_member, anne, peter, read_mail
):
    other = attorney_services.accept(
        power_of_attorney=grant_to_organisation(peter, [read_mail]), acting_user=anne
    )
    attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=other
    )
    assert decide(BO, PETER, **on_behalf()).json()["decision"] == "permit"
    assert decide(BO, KAREN, **on_behalf()).json()["reason"] == "no_organisation_access"


def test_a_member_of_another_organisation_may_not_act_on_its_behalf(
    decide, lund, karen, bo_with_access, read_mail
):
    # Karen has also given Lund a power of attorney; Bo works for Revisorhuset, not for Lund.
    mandate = grant_to_organisation_named(karen, lund, [read_mail])
    attorney_services.accept(power_of_attorney=mandate, acting_user=lund.administrator)
    answer = decide(BO, KAREN, **on_behalf(LUND_CVR)).json()
    assert (answer["decision"], answer["reason"], answer["power_of_attorney"]) == (
        "deny",
        "no_power_of_attorney",
        None,
    )
    assert answer["on_behalf_of_organisation"] == {"cvr": LUND_CVR, "name": None}


def test_an_administrator_of_another_organisation_is_not_permitted_by_this_ones_mandate(
    decide, lund, bo_with_access
):
    lise = lund.administrator.national_id
    assert decide(lise, KAREN, **on_behalf(REVISOR_CVR)).json()["reason"] == "no_power_of_attorney"
    assert decide(lise, KAREN, **on_behalf(LUND_CVR)).json()["reason"] == "no_power_of_attorney"


def test_an_organisation_without_a_mandate_and_an_unregistered_one_are_answered_alike(
    decide, lund, bo_with_access
):
    # Lund holds nothing from Karen; 34567891 is a valid CVR number that nobody registered.
    registered = decide(BO, KAREN, **on_behalf(LUND_CVR)).json()
    unregistered = decide(BO, KAREN, **on_behalf("34567891")).json()
    registered.pop("on_behalf_of_organisation")
    unregistered.pop("on_behalf_of_organisation")
    assert registered == unregistered
    assert registered["reason"] == "no_power_of_attorney"


def test_without_the_cvr_number_the_organisations_mandate_permits_nobody(decide, bo_with_access):
    answer = decide(BO, KAREN).json()
    assert (answer["decision"], answer["reason"]) == ("deny", "no_power_of_attorney")
    assert "on_behalf_of_organisation" not in answer


def test_on_an_organisations_behalf_a_persons_own_mandate_does_not_count(
    decide, active_mandate, revisorhuset
):
    # Peter holds a power of attorney of his own from Karen, but he asks as Revisorhuset's.
    assert decide(PETER, KAREN).json()["decision"] == "permit"
    assert decide(PETER, KAREN, **on_behalf()).json()["reason"] == "no_power_of_attorney"


def test_a_revoked_mandate_permits_no_member(decide, bo_with_access, client_mandate, karen):
    attorney_services.revoke(power_of_attorney=client_mandate, acting_user=karen)
    answer = decide(BO, KAREN, **on_behalf()).json()
    assert (answer["decision"], answer["reason"], answer["power_of_attorney"]) == (
        "deny",
        "revoked",
        str(client_mandate.pk),
    )


def test_an_expired_mandate_permits_no_member(decide, bo_with_access, client_mandate, time_machine):
    time_machine.move_to(client_mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    answer = decide(BO, KAREN, **on_behalf()).json()
    assert (answer["decision"], answer["reason"]) == ("deny", "expired")


def test_another_authority_learns_nothing_of_the_organisations_mandate(
    client, kommune, kommune_mail, bo_with_access
):
    token = create_api_client(authority=kommune, name="KK system")[1]
    response = client.post(
        reverse("api:decisions"),
        json.dumps({"actor": BO, "principal": KAREN, "right": kommune_mail.code, **on_behalf()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    answer = response.json()
    assert (answer["decision"], answer["reason"], answer["power_of_attorney"]) == (
        "deny",
        "no_power_of_attorney",
        None,
    )


def test_a_mandate_not_yet_accepted_permits_no_member(
    decide, karen, revisorhuset, bo_member, anne, read_mail
):
    grant_to_organisation(karen, [read_mail])
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    assert decide(BO, KAREN, **on_behalf()).json()["reason"] == "no_power_of_attorney"


def test_a_member_who_left_is_denied_at_the_next_request(decide, bo_with_access, bo_member, bo):
    assert decide(BO, KAREN, **on_behalf()).json()["decision"] == "permit"
    organisation_services.end_membership(acting_user=bo, membership=bo_member)
    assert decide(BO, KAREN, **on_behalf()).json()["reason"] == "no_power_of_attorney"


def test_a_deactivated_member_is_denied(decide, bo_with_access, bo):
    bo.is_active = False
    bo.save(update_fields=["is_active"])
    assert decide(BO, KAREN, **on_behalf()).json()["decision"] == "deny"


def test_a_right_the_organisations_mandate_lacks_is_not_granted(
    decide, karen, revisorhuset, bo_member, anne, read_mail, tax_statement
):
    mandate = attorney_services.accept(
        power_of_attorney=grant_to_organisation(karen, [read_mail]), acting_user=anne
    )
    attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=mandate
    )
    assert decide(BO, KAREN, tax_statement.code, **on_behalf()).json()["reason"] == "right_not_granted"


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cvr", "message"),
    [
        ("1234567", "Enter a CVR number as 8 digits, for example 12345674."),
        ("12345678", "This is not a valid CVR number: its check digit does not match. Check the number."),
        ("", "This field may not be blank."),
        (12345674, "Give this as text."),
        (None, "This field may not be null."),
    ],
)
def test_a_bad_cvr_number_is_a_400_problem_naming_the_field(decide, bo_with_access, cvr, message):
    response = decide(BO, KAREN, **on_behalf(cvr))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"on_behalf_of_organisation": [message]}


def test_the_cvr_numbers_problem_is_in_danish_by_default(decide, read_mail):
    response = decide(BO, KAREN, language="da", **on_behalf("1234567"))
    assert response.json()["errors"]["on_behalf_of_organisation"] == [
        "Skriv CVR-nummeret som 8 cifre, for eksempel 12345674."
    ]


def test_a_bad_cvr_number_in_one_batch_question_is_named_at_its_place(client, skat_token, read_mail):
    questions = [
        {"actor": BO, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": BO, "principal": KAREN, "right": "skat.read_mail", "on_behalf_of_organisation": "nope"},
    ]
    response = client.post(
        reverse("api:decisions_batch"),
        json.dumps({"questions": questions}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {skat_token}",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]["questions"]["1"]) == ["on_behalf_of_organisation"]


# --- the batch, the audit trail and the schema -------------------------------------------------


def test_the_batch_answers_each_question_for_the_organisation_it_names(client, skat_token, bo_with_access):
    questions = [
        {
            "actor": BO,
            "principal": KAREN,
            "right": "skat.read_mail",
            "on_behalf_of_organisation": REVISOR_CVR,
        },
        {"actor": BO, "principal": KAREN, "right": "skat.read_mail"},
    ]
    response = client.post(
        reverse("api:decisions_batch"),
        json.dumps({"questions": questions}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {skat_token}",
    )
    through, alone = response.json()["answers"]
    assert (through["decision"], alone["decision"]) == ("permit", "deny")
    assert through["on_behalf_of_organisation"] == {"cvr": REVISOR_CVR, "name": REVISOR_NAME}
    assert "on_behalf_of_organisation" not in alone
    event = AuditEvent.objects.get(action="api.decision_batch")
    assert [a.get("organisation_cvr") for a in event.details["answers"]] == [REVISOR_CVR, None]


def test_the_audit_trail_records_the_organisation_not_the_people(decide, bo_with_access):
    decide(BO, KAREN, **on_behalf("DK 12 34 56 74"))
    event = AuditEvent.objects.get(action="api.decision")
    assert event.details["organisation_cvr"] == REVISOR_CVR
    assert event.details["decision"] == "permit"
    assert BO not in json.dumps(event.details)
    assert KAREN not in json.dumps(event.details)


def test_a_question_without_an_organisation_records_none(decide, active_mandate):
    decide(PETER, KAREN)
    assert "organisation_cvr" not in AuditEvent.objects.get(action="api.decision").details


def test_every_reason_the_policy_gives_is_in_the_schemas_enum():
    from attorney.policy import Reason

    reasons = {value for name, value in vars(Reason).items() if name.isupper()}
    assert reasons <= set(DECISION_REASONS)


def test_the_schema_documents_the_organisation_in_question_and_answer():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert "no_organisation_access" in schemas["DecisionReasonEnum"]["enum"]
    assert "on_behalf_of_organisation" in schemas["DecisionQuestionRequest"]["properties"]
    assert "on_behalf_of_organisation" not in schemas["DecisionAnswer"].get("required", [])
    listed = schemas["PowerOfAttorney"]
    assert listed["properties"]["attorney"]["nullable"] is True
    assert listed["properties"]["organisation"]["nullable"] is True


# --- the list of powers of attorney -------------------------------------------------------------


def test_the_list_names_the_organisation_instead_of_a_cpr_number(mandates, client_mandate, active_mandate):
    results = {r["id"]: r for r in mandates(principal=KAREN).json()["results"]}
    organisations = results[str(client_mandate.pk)]
    assert organisations["attorney"] is None
    assert organisations["attorney_name"] == REVISOR_NAME
    assert organisations["organisation"] == {"cvr": REVISOR_CVR, "name": REVISOR_NAME}
    assert organisations["rights"] == ["skat.read_mail", "skat.view_tax_assessment"]
    persons = results[str(active_mandate.pk)]
    assert (persons["attorney"], persons["organisation"]) == (PETER, None)


def test_the_list_by_organisation_holds_its_mandates(mandates, client_mandate, active_mandate):
    results = mandates(organisation="12 34 56 74").json()["results"]
    assert [r["id"] for r in results] == [str(client_mandate.pk)]


def test_a_members_list_holds_only_their_own_mandates(mandates, bo_with_access):
    assert mandates(attorney=BO).json()["results"] == []


def test_the_list_leaves_out_an_organisations_mandate_not_yet_accepted(
    mandates, karen, revisorhuset, read_mail
):
    grant_to_organisation(karen, [read_mail])
    assert mandates(organisation=REVISOR_CVR).json()["results"] == []
    assert mandates(principal=KAREN).json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [{"organisation": "12345678"}, {"organisation": REVISOR_CVR, "principal": KAREN}, {"organisation": ""}],
)
def test_the_list_needs_exactly_one_valid_party(mandates, read_mail, query):
    response = mandates(**query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_listing_takes_the_same_queries_however_many_organisations(
    mandates, karen, revisorhuset, lund, anne, read_mail
):
    attorney_services.accept(power_of_attorney=grant_to_organisation(karen, [read_mail]), acting_user=anne)
    mandates(principal=KAREN)  # the client is read once per process
    with CaptureQueriesContext(connection) as one:
        assert len(mandates(principal=KAREN).json()["results"]) == 1
    mandate = grant_to_organisation_named(karen, lund, [read_mail])
    attorney_services.accept(power_of_attorney=mandate, acting_user=lund.administrator)
    with CaptureQueriesContext(connection) as two:
        assert len(mandates(principal=KAREN).json()["results"]) == 2
    assert len(two) == len(one)
    # On PostgreSQL: the mandates, their rights, the count and the audit event.
    assert connection.vendor != "postgresql" or len(one) <= 4


def grant_to_organisation_named(grantor, organisation, rights):
    now = timezone.now()
    return attorney_services.grant_power_of_attorney_to_organisation(
        acting_user=grantor,
        cvr=organisation.cvr,
        organisation_name=organisation.name,
        rights=rights,
        valid_from=now,
        valid_until=now + datetime.timedelta(days=365),
    )


def test_a_person_acting_for_themselves_is_self_whichever_organisation_is_named(decide, read_mail):
    answer = decide(BO, BO, **on_behalf())
    assert (answer.json()["reason"], answer.json()["on_behalf_of_organisation"]) == (
        "self",
        {"cvr": REVISOR_CVR, "name": None},
    )
