"""Authorities report uses of citizens' data: accepted only under a consent in force at that moment."""

import datetime

import pytest
from django.utils import timezone

from authorities.consent import services as consent_services
from authorities.models import AuthorityEvent, DataUse, RefusedDataUse
from portal.models import AuditEvent

from .conftest import a_consent, client_of, use

pytestmark = pytest.mark.django_db

MICROSECOND = datetime.timedelta(microseconds=1)


def refusal(response) -> str:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["reason"]


# --- accepted -------------------------------------------------------------------------------------


def test_a_use_while_the_consent_is_in_force_is_recorded_under_it(
    report, karen, kommune_client, kommune_consent
):
    at = timezone.now() - datetime.timedelta(days=1)
    response = report(kommune_client, use(at, case_reference="BS-1"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["basis"], body["consent"]) == (
        "accepted",
        "consent",
        str(kommune_consent.pk),
    )
    stored = DataUse.objects.get()
    assert (stored.consent, stored.used_at, stored.case_reference) == (kommune_consent, at, "BS-1")
    assert stored.citizen_national_id == karen.national_id


def test_each_accepted_use_is_an_event_of_the_audit_log_for_the_citizen(
    report, karen, kommune_client, kommune_consent
):
    report(kommune_client, use(timezone.now() - datetime.timedelta(hours=1)))
    event = AuditEvent.objects.get(action="data_use.reported")
    assert (event.principal, event.authority, event.target_id) == (
        karen,
        kommune_consent.authority,
        str(DataUse.objects.get().pk),
    )
    assert event.details["consent"] == str(kommune_consent.pk)
    assert karen.national_id not in str(event.details)


def test_a_use_at_the_very_start_of_the_consent_is_accepted(report, kommune_client, kommune_consent):
    assert report(kommune_client, use(kommune_consent.valid_from)).status_code == 201


def test_a_use_in_the_last_moment_before_the_end_is_accepted(report, kommune_client, kommune, karen, income):
    now = timezone.now()
    consent = a_consent(kommune, karen, income, start=now - datetime.timedelta(days=10), end=now)
    assert report(kommune_client, use(consent.valid_until - MICROSECOND)).status_code == 201


def test_data_the_catalogue_gives_a_legal_basis_needs_no_consent(report, kommune_client, karen, pension):
    response = report(kommune_client, use(timezone.now(), category="skat.pension"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["basis"], body["consent"]) == ("legal_basis", None)
    assert body["legal_basis"] in ("Lov om social pension § 43", "Social Pensions Act section 43")
    assert DataUse.objects.get().legal_basis_da == "Lov om social pension § 43"


# --- refused, at the exact moment -----------------------------------------------------------------


def test_a_use_a_moment_before_the_consent_began_is_refused(report, kommune_client, kommune_consent):
    assert (
        refusal(report(kommune_client, use(kommune_consent.valid_from - MICROSECOND)))
        == "consent_not_yet_valid"
    )
    assert not DataUse.objects.exists()


def test_a_use_at_the_moment_the_consent_expired_is_refused(report, kommune_client, kommune, karen, income):
    now = timezone.now()
    consent = a_consent(kommune, karen, income, start=now - datetime.timedelta(days=10), end=now)
    assert refusal(report(kommune_client, use(consent.valid_until))) == "consent_expired"
    assert not DataUse.objects.exists()


def test_a_use_after_the_expiry_job_ran_is_refused_as_expired(report, kommune_client, kommune, karen, income):
    now = timezone.now()
    a_consent(
        kommune, karen, income, start=now - datetime.timedelta(days=10), end=now - datetime.timedelta(days=1)
    )
    consent_services.expire_due_consents()
    assert refusal(report(kommune_client, use(now))) == "consent_expired"


def test_a_use_at_the_moment_of_withdrawal_is_refused_and_a_moment_before_accepted(
    report, kommune_client, karen, kommune_consent
):
    withdrawn = consent_services.withdraw_consent(consent=kommune_consent, acting_user=karen, principal=karen)
    assert refusal(report(kommune_client, use(withdrawn.ended_at, id="at"))) == "consent_withdrawn"
    assert report(kommune_client, use(withdrawn.ended_at - MICROSECOND, id="before")).status_code == 201
    assert list(DataUse.objects.values_list("external_id", flat=True)) == ["before"]


def test_without_any_consent_the_use_is_refused(report, kommune_client, karen, income):
    assert refusal(report(kommune_client, use(timezone.now()))) == "no_consent"


def test_a_person_the_portal_does_not_know_is_answered_as_no_consent(report, kommune_client, income):
    assert refusal(report(kommune_client, use(timezone.now(), citizen="0101501234"))) == "no_consent"


def test_a_consent_to_another_authority_allows_nothing_here(report, skat_client, kommune_consent):
    assert refusal(report(skat_client, use(timezone.now()))) == "no_consent"


def test_a_consent_for_other_data_allows_nothing(report, kommune_client, kommune, karen, kommune_consent):
    from authorities.models import DataCategory

    DataCategory.objects.create(
        authority=kommune, code="kobenhavns-kommune.care_plan", name_da="Plan", name_en="Plan"
    )
    response = report(kommune_client, use(timezone.now(), category="kobenhavns-kommune.care_plan"))
    assert refusal(response) == "no_consent"


def test_an_unverified_account_with_the_number_gives_no_consent(
    report, kommune_client, kommune_consent, karen
):
    karen.identity_verified_at, karen.identity_verification = None, ""
    karen.save(update_fields=["identity_verified_at", "identity_verification"])
    assert refusal(report(kommune_client, use(timezone.now()))) == "no_consent"


def test_a_use_in_the_future_is_bad_input(report, kommune_client, kommune_consent):
    response = report(kommune_client, use(timezone.now() + datetime.timedelta(hours=1)))
    assert response.status_code == 400
    assert "at" in response.json()["errors"]
    assert "reason" not in response.json()
    assert not RefusedDataUse.objects.exists()


# --- refusals are counted and told --------------------------------------------------------------


def test_a_refused_report_is_counted_per_client_and_tells_the_authoritys_system(
    report, karen, kommune, kommune_client, kommune_consent
):
    withdrawn = consent_services.withdraw_consent(consent=kommune_consent, acting_user=karen, principal=karen)
    report(kommune_client, use(withdrawn.ended_at + datetime.timedelta(seconds=1)))
    refused = RefusedDataUse.objects.get()
    assert (refused.client, refused.reason, refused.consent) == (
        client_of(kommune_client),
        "consent_withdrawn",
        kommune_consent,
    )
    event = AuthorityEvent.objects.get(type="data_use.refused")
    assert event.authority == kommune
    assert event.payload["reason"] == "consent_withdrawn"
    assert event.payload["id"] == "use-1"
    assert event.payload["consent"] == str(kommune_consent.pk)


def test_a_refused_report_sent_again_is_counted_once(report, kommune_client, income, karen):
    for _ in range(3):
        refusal(report(kommune_client, use(timezone.now())))
    assert RefusedDataUse.objects.count() == 1
    assert AuthorityEvent.objects.filter(type="data_use.refused").count() == 1


def test_a_refusal_is_told_only_to_the_reporting_authority(
    report, kommune, skat, kommune_client, skat_client, income
):
    refusal(report(kommune_client, use(timezone.now())))
    assert list(
        AuthorityEvent.objects.filter(type="data_use.refused").values_list("authority", flat=True)
    ) == [kommune.pk]


# --- idempotency ----------------------------------------------------------------------------------


def test_the_same_use_sent_again_is_recorded_once(report, kommune_client, kommune_consent):
    body = use(timezone.now() - datetime.timedelta(hours=2))
    first = report(kommune_client, body)
    again = report(kommune_client, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "already_reported"
    assert again.json()["data_use"] == first.json()["data_use"]
    assert DataUse.objects.count() == 1
    assert AuditEvent.objects.filter(action="data_use.reported").count() == 1


def test_an_id_used_again_for_another_use_is_a_conflict(report, kommune_client, kommune_consent):
    report(kommune_client, use(timezone.now() - datetime.timedelta(hours=2)))
    response = report(kommune_client, use(timezone.now() - datetime.timedelta(hours=1)))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["reason"] == "id_reused"
    assert DataUse.objects.count() == 1


def test_ids_are_each_authoritys_own(
    report, kommune_client, skat_client, skat, karen, income, kommune_consent, pension
):
    assert report(kommune_client, use(timezone.now(), id="sag-1")).status_code == 201
    # Skattestyrelsen uses the same id for its own use: no conflict, and nothing of Kommunen's shows.
    response = report(skat_client, use(timezone.now(), id="sag-1", category="skat.pension"))
    assert response.status_code == 201
    assert DataUse.objects.filter(external_id="sag-1").count() == 2


# --- batches --------------------------------------------------------------------------------------


def test_a_batch_answers_each_use_in_order(report, kommune_client, kommune_consent):
    now = timezone.now()
    uses = [
        use(now - datetime.timedelta(days=1), id="a"),
        use(kommune_consent.valid_from - MICROSECOND, id="b"),
        use(now - datetime.timedelta(days=2), id="c"),
    ]
    response = report(kommune_client, {"uses": uses}, batch=True)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["id"], r["status"], r["reason"]) for r in results] == [
        ("a", "accepted", None),
        ("b", "refused", "consent_not_yet_valid"),
        ("c", "accepted", None),
    ]
    again = report(kommune_client, {"uses": uses}, batch=True).json()["results"]
    assert [r["status"] for r in again] == ["already_reported", "refused", "already_reported"]
    assert DataUse.objects.count() == 2
    assert RefusedDataUse.objects.count() == 1


def test_a_batch_of_a_hundred_is_accepted(
    report, kommune_client, kommune_consent, django_assert_max_num_queries
):
    at = timezone.now() - datetime.timedelta(hours=1)
    uses = [use(at, id=f"u{n}") for n in range(100)]
    # A handful of set-based queries, the audit events of all hundred among them.
    with django_assert_max_num_queries(16):
        response = report(kommune_client, {"uses": uses}, batch=True)
    assert response.status_code == 200
    assert DataUse.objects.count() == 100


def test_a_batch_of_more_than_a_hundred_is_refused_whole(report, kommune_client, kommune_consent):
    at = timezone.now() - datetime.timedelta(hours=1)
    response = report(kommune_client, {"uses": [use(at, id=f"u{n}") for n in range(101)]}, batch=True)
    assert response.status_code == 400
    assert "uses" in response.json()["errors"]
    assert not DataUse.objects.exists()


def test_an_empty_batch_is_refused(report, kommune_client):
    assert report(kommune_client, {"uses": []}, batch=True).status_code == 400


def test_a_batch_with_one_bad_use_records_nothing(report, kommune_client, kommune_consent):
    at = timezone.now() - datetime.timedelta(hours=1)
    uses = [use(at, id="good"), use(at, id="bad", citizen="999999-9999")]
    response = report(kommune_client, {"uses": uses}, batch=True)
    assert response.status_code == 400
    errors = response.json()["errors"]["uses"]
    assert set(errors["1"] if isinstance(errors, dict) else errors[1]) == {"citizen"}
    assert not DataUse.objects.exists()


def test_a_batch_with_the_same_id_twice_records_nothing(report, kommune_client, kommune_consent):
    at = timezone.now() - datetime.timedelta(hours=1)
    response = report(kommune_client, {"uses": [use(at, id="x"), use(at, id="x")]}, batch=True)
    assert response.status_code == 400
    assert not DataUse.objects.exists()


# --- access and bad input -----------------------------------------------------------------------


def test_without_a_token_nothing_is_recorded(report, kommune_consent):
    assert report(None, use(timezone.now())).status_code == 401
    assert not DataUse.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"category": "skat.unknown"},
        {"citizen": 102451234},
        {"at": "yesterday"},
        {"purpose": "   "},
        {"id": ""},
        {"id": "x" * 101},
        {"when": "2026-01-01T00:00:00Z"},
    ],
)
def test_bad_input_is_named_and_changes_nothing(report, kommune_client, kommune_consent, change):
    body = {**use(timezone.now() - datetime.timedelta(hours=1)), **change}
    response = report(kommune_client, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) <= set(change) | {"at"}
    assert not DataUse.objects.exists() and not RefusedDataUse.objects.exists()
