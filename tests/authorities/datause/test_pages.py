"""Citizens see every use of their data; attorneys with the consent right see the same, nobody else."""

import csv
import datetime
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from authorities.models import DataUse

from .conftest import record_use

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def uses(kommune_consent, skat_consent):
    now = timezone.now()
    return {
        "kommune_old": record_use(
            kommune_consent, external_id="k1", at=now - 3 * HOUR, purpose="Kommune før"
        ),
        "skat": record_use(skat_consent, external_id="s1", at=now - 2 * HOUR, purpose="Skat brugte"),
        "kommune_new": record_use(kommune_consent, external_id="k2", at=now - HOUR, purpose="Kommune nu"),
    }


def shown(response) -> list:
    assert response.status_code == 200, response.status_code
    return [use.external_id for use in response.context["page"]]


def data_use_page(client, **query):
    return client.get(reverse("authorities:data_uses"), query)


def consent_page(client, consent):
    return client.get(reverse("authorities:consent", args=[consent.pk]))


# --- the citizen --------------------------------------------------------------------------------


def test_karen_sees_every_use_newest_first(client, login, karen, uses):
    login(client, karen)
    response = data_use_page(client)
    assert shown(response) == ["k2", "s1", "k1"]
    page = response.content.decode()
    assert "Kommune nu" in page and "Skat brugte" in page


def test_karen_filters_the_uses_by_authority(client, login, karen, kommune, uses):
    login(client, karen)
    assert shown(data_use_page(client, authority=kommune.pk)) == ["k2", "k1"]


def test_an_authority_she_cannot_filter_by_is_refused_as_bad_input_not_an_error(client, login, karen, uses):
    login(client, karen)
    response = data_use_page(client, authority="not-a-number")
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_each_uses_basis_is_named(client, login, karen, kommune_consent, kommune_client, pension, report):
    from .conftest import use

    record_use(kommune_consent, external_id="k", at=timezone.now() - HOUR)
    report(kommune_client, use(timezone.now() - HOUR, id="law", category="skat.pension"))
    login(client, karen)
    page = data_use_page(client).content.decode()
    # Under her consent, linked to it; under the law the catalogue names, by that law.
    assert reverse("authorities:consent", args=[kommune_consent.pk]) in page
    assert "Lov om social pension § 43" in page or "Social Pensions Act section 43" in page


def test_a_consents_page_shows_only_its_own_uses(client, login, karen, uses, kommune_consent):
    login(client, karen)
    assert shown(consent_page(client, kommune_consent)) == ["k2", "k1"]


def test_the_list_is_paginated(client, login, karen, kommune_consent):
    now = timezone.now()
    for n in range(55):
        record_use(kommune_consent, external_id=f"u{n}", at=now - n * datetime.timedelta(minutes=1))
    login(client, karen)
    assert len(shown(data_use_page(client))) == 50
    assert shown(client.get(reverse("authorities:data_uses"), {"side": 2})) == [
        f"u{n}" for n in range(50, 55)
    ]


# --- attorneys ----------------------------------------------------------------------------------


def test_an_attorney_with_the_consent_right_sees_that_authoritys_uses_only(
    client, acting, kommune, kommune_consent_right, uses, kommune_consent
):
    acting(kommune_consent_right)
    response = data_use_page(client)
    assert shown(response) == ["k2", "k1"]
    assert list(response.context["filter"].form.fields["authority"].queryset) == [kommune]
    assert shown(consent_page(client, kommune_consent)) == ["k2", "k1"]


def test_an_attorney_sees_the_uses_but_cannot_download_them(client, acting, kommune_consent_right, uses):
    acting(kommune_consent_right)
    assert "eksport" not in data_use_page(client).content.decode()
    assert client.get(reverse("authorities:data_use_export_json")).status_code == 403
    assert client.get(reverse("authorities:data_use_export_csv", args=["brug"])).status_code == 403


def test_an_attorney_cannot_filter_their_way_to_another_authoritys_uses(
    client, acting, skat, kommune_consent_right, uses
):
    acting(kommune_consent_right)
    response = data_use_page(client, authority=skat.pk)
    assert response.status_code == 200
    assert "s1" not in shown(response)


def test_an_attorney_without_the_consent_right_is_refused(client, acting, read_mail, uses, kommune_consent):
    acting(read_mail)
    assert data_use_page(client).status_code == 403
    assert client.get(reverse("authorities:data_use_export_json")).status_code == 403
    assert client.get(reverse("authorities:data_use_export_csv", args=["brug"])).status_code == 403
    assert consent_page(client, kommune_consent).status_code == 404


def test_an_attorney_cannot_open_a_consent_at_an_authority_outside_the_right(
    client, acting, kommune_consent_right, uses, skat_consent
):
    acting(kommune_consent_right)
    assert consent_page(client, skat_consent).status_code == 404


def test_another_citizen_sees_none_of_karens_uses(client, login, ole, uses, kommune_consent):
    login(client, ole)
    assert shown(data_use_page(client)) == []
    assert consent_page(client, kommune_consent).status_code == 404
    assert "Kommune nu" not in client.get(reverse("authorities:data_use_export_json")).getvalue().decode()


def test_anonymous_visitors_are_sent_to_log_in(client, uses, kommune_consent):
    for url in (
        reverse("authorities:data_uses"),
        reverse("authorities:consent", args=[kommune_consent.pk]),
        reverse("authorities:data_use_export_json"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


def test_an_account_that_only_claims_the_number_sees_no_uses(client, login, karen, uses):
    karen.identity_verified_at, karen.identity_verification = None, ""
    karen.save(update_fields=["identity_verified_at", "identity_verification"])
    login(client, karen)
    response = data_use_page(client)
    assert response.status_code == 403
    assert "page" not in (response.context or {})


# --- export ----------------------------------------------------------------------------------------


def test_karen_downloads_her_consents_and_uses_as_json(
    client, login, karen, uses, kommune_consent, skat_consent
):
    login(client, karen)
    response = client.get(reverse("authorities:data_use_export_json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.getvalue())
    assert {c["id"] for c in data["consents"]} == {str(kommune_consent.pk), str(skat_consent.pk)}
    assert [u["purpose"] for u in data["data_uses"]] == ["Kommune nu", "Skat brugte", "Kommune før"]
    assert data["data_uses"][0]["consent"] == str(kommune_consent.pk)


def test_karen_downloads_her_uses_and_consents_as_csv(client, login, karen, uses, kommune_consent):
    login(client, karen)
    uses_csv = client.get(reverse("authorities:data_use_export_csv", args=["brug"]))
    rows = list(csv.DictReader(io.StringIO(uses_csv.getvalue().decode("utf-8-sig"))))
    assert [row["purpose"] for row in rows] == ["Kommune nu", "Skat brugte", "Kommune før"]
    consents_csv = client.get(reverse("authorities:data_use_export_csv", args=["samtykker"]))
    rows = list(csv.DictReader(io.StringIO(consents_csv.getvalue().decode("utf-8-sig"))))
    assert str(kommune_consent.pk) in {row["id"] for row in rows}
    assert client.get(reverse("authorities:data_use_export_csv", args=["andet"])).status_code == 404


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(client, login, karen, kommune_consent):
    record_use(kommune_consent, external_id="f", at=timezone.now() - HOUR, purpose="=HYPERLINK(1)")
    login(client, karen)
    body = (
        client.get(reverse("authorities:data_use_export_csv", args=["brug"])).getvalue().decode("utf-8-sig")
    )
    assert "'=HYPERLINK(1)" in body


# --- cost stays flat ------------------------------------------------------------------------------


@pytest.fixture
def ten_thousand_uses(kommune_consent):
    client = record_use(kommune_consent, external_id="first", at=timezone.now() - HOUR).client
    start = timezone.now() - datetime.timedelta(days=20)
    DataUse.objects.bulk_create(
        [
            DataUse(
                authority=kommune_consent.authority,
                client=client,
                external_id=f"bulk-{n}",
                citizen_national_id=kommune_consent.citizen.national_id,
                category=kommune_consent.category,
                purpose=f"Brug {n}",
                used_at=start + n * datetime.timedelta(minutes=1),
                basis="consent",
                consent=kommune_consent,
            )
            for n in range(10_000)
        ],
        batch_size=2000,
    )


@pytest.mark.parametrize("name", ["data_uses", "consent"])
def test_pages_cost_the_same_with_ten_thousand_uses(
    client, login, karen, kommune_consent, ten_thousand_uses, django_assert_max_num_queries, name
):
    login(client, karen)
    url = reverse(f"authorities:{name}", args=[kommune_consent.pk] if name == "consent" else [])
    with django_assert_max_num_queries(20):
        response = client.get(url, {"side": 3})
    assert len(response.context["page"]) == 50


def test_the_attorneys_page_costs_the_same_with_ten_thousand_uses(
    client, acting, kommune_consent_right, ten_thousand_uses, django_assert_max_num_queries
):
    acting(kommune_consent_right)
    with django_assert_max_num_queries(25):
        response = data_use_page(client)
    assert len(response.context["page"]) == 50


def test_the_export_costs_the_same_with_ten_thousand_uses(
    client, login, karen, ten_thousand_uses, django_assert_max_num_queries
):
    login(client, karen)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("authorities:data_use_export_json"))
        data = json.loads(response.getvalue())
    assert len(data["data_uses"]) == 10_001


def test_a_use_under_a_legal_basis_waits_for_the_person_to_verify_their_number(
    client, login, kommune_client, pension, report
):
    from ...factories import UserFactory
    from .conftest import use

    report(
        kommune_client, use(timezone.now() - HOUR, id="law", citizen="050560-1234", category="skat.pension")
    )
    newcomer = UserFactory(national_id="0505601234")
    login(client, newcomer)
    assert shown(data_use_page(client)) == ["law"]
