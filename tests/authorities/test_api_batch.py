"""POST /api/v1/decisions/batch answers every question as POST /api/v1/decisions answers it alone,
audits them as before, and decides the plain questions together in a fixed number of statements."""

import datetime
import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from authorities.api import fastpath, views
from authorities.catalogue.models import Matters
from authorities.clients.services import create_api_client
from portal.models import AuditEvent
from representation import services as representation_services

from ..conftest import grant

pytestmark = pytest.mark.django_db

KAREN, PETER, OLE, EMMA = "0102451234", "1503752345", "2308603456", "1406124321"


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


@pytest.fixture
def post(client, skat_token):
    def call(name, body):
        return client.post(
            reverse(f"api:{name}"),
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {skat_token}",
        )

    return call


@pytest.fixture
def mixed(karen, peter, ole, read_mail, tax_statement, time_machine):
    """Karen → Peter in force with read_mail; Ole → Peter revoked; Emma (12) in Peter's custody."""
    from ..factories import UserFactory

    read_mail.matters, read_mail.for_custodians = Matters.FINANCIAL, True
    read_mail.save()
    time_machine.move_to(timezone.now() - datetime.timedelta(days=10))
    attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)
    revoked = attorney_services.accept(power_of_attorney=grant(ole, peter, [read_mail]), acting_user=peter)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=10))
    attorney_services.revoke(power_of_attorney=revoked, acting_user=ole)
    UserFactory(name="Emma Jensen", national_id=EMMA)
    line = {
        "type": "parental_custody",
        "child": EMMA,
        "custodian": PETER,
        "from": "2012-06-14",
        "sequence": 1,
    }
    representation_services.import_register_extract(lines=[json.dumps(line)], file_name="extract.jsonl")


def questions():
    week_ago = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    return [
        {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"},  # permit
        {"actor": PETER, "principal": KAREN, "right": "skat.view_tax_assessment"},  # right not granted
        {"actor": PETER, "principal": OLE, "right": "skat.read_mail"},  # revoked
        {"actor": OLE, "principal": KAREN, "right": "skat.read_mail"},  # no power of attorney
        {"actor": "010245-1234", "principal": KAREN, "right": "skat.read_mail"},  # oneself
        {"actor": PETER, "principal": OLE, "right": "skat.read_mail", "at": week_ago},  # before revoking
        {"actor": PETER, "principal": EMMA, "right": "skat.read_mail"},  # parental custody
        {"actor": PETER, "principal": EMMA, "right": "skat.view_tax_assessment"},  # custody does not cover
    ]


def test_a_batch_answers_each_question_as_it_is_answered_alone(post, mixed):
    asked = questions()
    alone = [post("decisions", question).json() for question in asked]
    batch = post("decisions_batch", {"questions": asked})
    assert batch.status_code == 200
    assert batch.json()["answers"] == alone
    assert [answer["reason"] for answer in alone] == [
        "power_of_attorney",
        "right_not_granted",
        "revoked",
        "no_power_of_attorney",
        "self",
        "power_of_attorney",
        "parental_custody",
        "custody_does_not_cover",
    ]


def test_a_batch_is_audited_as_one_event_with_every_answer(post, mixed):
    asked = questions()
    answers = post("decisions_batch", {"questions": asked}).json()["answers"]
    event = AuditEvent.objects.get(action="api.decision_batch")
    assert [(d["right"], d["decision"], d["reason"]) for d in event.details["answers"]] == [
        (q["right"], a["decision"], a["reason"]) for q, a in zip(asked, answers, strict=True)
    ]
    assert event.details["answers"][5]["at"] is not None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one statement each on PostgreSQL; elsewhere plain querysets"
)
def test_a_batch_of_a_hundred_takes_three_statements(post, mixed, django_assert_max_num_queries):
    plain = [q for q in questions() if "at" not in q and q["principal"] != EMMA]
    post("decisions_batch", {"questions": plain})  # the client and the rights are read once per process
    with django_assert_max_num_queries(3):  # the permits, the denials' history, the audit event
        response = post("decisions_batch", {"questions": (plain * 20)[:100]})
    assert len(response.json()["answers"]) == 100


def test_a_question_beyond_a_plain_one_is_decided_on_its_own(monkeypatch, mixed, read_mail):
    alone = []
    real = views._decide

    def decide(question):
        alone.append(question)
        return real({k: v for k, v in question.items() if k != "extra"})

    monkeypatch.setattr(views, "_decide", decide)
    plain = {"actor": PETER, "principal": KAREN, "right": read_mail, "at": None}
    other = {"actor": PETER, "principal": OLE, "right": read_mail, "extra": "something"}
    answers = views._decide_all([plain, other, plain])
    assert alone == [other]
    assert [a["reason"] for a in answers] == ["power_of_attorney", "revoked", "power_of_attorney"]


# --- the batch's common case, read without DRF ------------------------------------------------------

# A content type the fast path leaves to DRF, which accepts it like plain application/json.
DRF_ONLY_TYPE = "application/json; charset=utf8"


@pytest.fixture
def send(client, skat_token):
    def call(body, *, content_type="application/json"):
        return client.post(
            reverse("api:decisions_batch"),
            body if isinstance(body, str) else json.dumps(body),
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {skat_token}",
        )

    return call


@pytest.fixture
def taken_by_fast_path(monkeypatch):
    """For each batch, whether the fast path answered it (rather than DRF)."""
    taken = []
    real = fastpath._read_batch

    def read_batch(request):
        read = real(request)
        taken.append(read is not None)
        return read

    monkeypatch.setattr(fastpath, "_read_batch", read_batch)
    return taken


def comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Expires")}
    return response.status_code, response.content, sorted(headers.items())


def test_the_fast_path_answers_a_batch_byte_for_byte_as_the_drf_view(send, mixed, taken_by_fast_path):
    plain = [q for q in questions() if "at" not in q]
    by_drf = send({"questions": plain}, content_type=DRF_ONLY_TYPE)  # DRF reads the rights once
    by_fast_path = send({"questions": plain})
    assert taken_by_fast_path == [False, True]
    assert comparable(by_fast_path) == comparable(by_drf)
    by_drf_event, by_fast_path_event = AuditEvent.objects.filter(action="api.decision_batch").order_by("id")
    assert by_fast_path_event.details == by_drf_event.details


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: {"questions": qs + [{**qs[0], "at": "2026-01-01T00:00:00Z"}]},
        lambda qs: {"questions": qs + [{**qs[0], "as_of": "now"}]},
        lambda qs: {"questions": qs + [{**qs[0], "on_behalf_of_organisation": "12345674"}]},
        lambda qs: {"questions": qs + [{**qs[0], "right": "skat.no_such_right"}]},
        lambda qs: {"questions": qs + [{**qs[0], "actor": "3213452345"}]},
        lambda qs: {"questions": qs + [{**qs[0], "actor": int(PETER)}]},
        lambda qs: {"questions": qs + [{**qs[0], "right": "kobenhavns-kommune.read_mail"}]},
        lambda qs: {"questions": (qs * 30)[:101]},
        lambda qs: {"questions": []},
        lambda qs: {"questions": qs, "extra": 1},
        lambda qs: qs,
        lambda qs: json.dumps({"questions": qs})[:-1],
    ],
)
def test_anything_unusual_in_a_batch_is_handed_to_the_drf_view(
    send, mixed, kommune_mail, taken_by_fast_path, change
):
    plain = [q for q in questions() if "at" not in q]
    send({"questions": plain})  # DRF reads the rights; the process holds them from now on
    body = change(plain)
    by_fast_path_view = send(body)
    by_drf = send(body, content_type=DRF_ONLY_TYPE)
    assert taken_by_fast_path == [False, False, False]
    assert comparable(by_fast_path_view) == comparable(by_drf)
