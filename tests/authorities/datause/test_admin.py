"""Caseworkers see their own authority's reported uses and the refused reports of each API client."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from authorities.models import RefusedDataUse

from ..test_admin import admin_as, make_caseworker
from .conftest import client_of, record_use, use

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(report, kommune_client, skat_client, kommune_consent, skat_consent):
    """Each authority has one accepted use; Københavns Kommune's system also had two refused."""
    now = timezone.now()
    record_use(
        kommune_consent,
        external_id="k-ok",
        at=now - datetime.timedelta(hours=1),
        client=client_of(kommune_client),
    )
    record_use(
        skat_consent, external_id="s-ok", at=now - datetime.timedelta(hours=1), client=client_of(skat_client)
    )
    for n in range(2):
        report(kommune_client, use(kommune_consent.valid_from - datetime.timedelta(days=1), id=f"k-no-{n}"))
    assert RefusedDataUse.objects.count() == 2


def rows(response) -> list:
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


def test_a_caseworker_sees_only_their_authoritys_uses(client, kommune, reports):
    admin_as(client, make_caseworker(kommune))
    shown = rows(client.get(reverse("admin:authorities_datause_changelist")))
    assert [use.external_id for use in shown] == ["k-ok"]


def test_another_authoritys_caseworker_sees_none_of_the_refused_reports(client, skat, reports):
    admin_as(client, make_caseworker(skat))
    assert rows(client.get(reverse("admin:authorities_refuseddatause_changelist"))) == []


def test_the_caseworker_sees_refused_reports_counted_per_client(client, kommune, kommune_client, reports):
    admin_as(client, make_caseworker(kommune))
    response = client.get(reverse("admin:authorities_refuseddatause_changelist"))
    (row,) = response.context["refused_per_client"]
    assert (row["client"], row["total"], row["withdrawn"]) == (client_of(kommune_client).pk, 2, 0)
    refused = rows(
        client.get(
            reverse("admin:authorities_refuseddatause_changelist"),
            {"client__id__exact": str(client_of(kommune_client).pk)},
        )
    )
    assert {r.external_id for r in refused} == {"k-no-0", "k-no-1"}


def test_a_caseworker_cannot_open_another_authoritys_use(client, skat, reports):
    from authorities.models import DataUse

    admin_as(client, make_caseworker(skat))
    other = DataUse.objects.get(external_id="k-ok")
    response = client.get(reverse("admin:authorities_datause_change", args=[other.pk]))
    assert response.status_code in (302, 404)


def test_the_service_desk_sees_the_refused_count_beside_each_api_client(client, kommune_client, reports):
    from ..test_admin import make_service_desk

    admin_as(client, make_service_desk())
    listed = {
        c.pk: c.refused_count for c in rows(client.get(reverse("admin:authorities_apiclient_changelist")))
    }
    assert listed[client_of(kommune_client).pk] == 2
