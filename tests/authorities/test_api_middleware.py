"""The decision endpoint answered before most of the middleware stack (DecisionMiddleware) gives the
very same answer as the whole stack: status, body and every header, in the same order. Whatever the
fast path does not take goes down the whole stack unchanged."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from attorney import services as attorney_services
from authorities.api import middleware, views
from authorities.clients.services import create_api_client

pytestmark = pytest.mark.django_db

KAREN, PETER, OLE = "0102451234", "1503752345", "2308603456"
MOMENT = datetime.datetime(2026, 11, 30, 12, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def skat_token(skat):
    return create_api_client(authority=skat, name="Skat system")[1]


@pytest.fixture
def frozen(time_machine):
    """One moment for both answers (``Expires`` is written from the clock)."""
    time_machine.move_to(MOMENT, tick=False)


@pytest.fixture
def mandate(frozen, karen, peter, ole, read_mail, tax_statement):
    from ..conftest import grant

    return attorney_services.accept(power_of_attorney=grant(karen, peter, [read_mail]), acting_user=peter)


@pytest.fixture
def whole_stack(monkeypatch):
    """Send the next requests down the whole stack, as without DecisionMiddleware."""

    def turn_off():
        monkeypatch.setattr(middleware.DecisionMiddleware, "_for_fast_path", lambda self, request: None)

    return turn_off


@pytest.fixture
def ask(skat_token):
    client = Client(raise_request_exception=False)

    def call(body, *, token=skat_token, content_type="application/json", **headers):
        extra = {"HTTP_X_REQUEST_ID": "req-1", **headers}
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = body if isinstance(body, str) else json.dumps(body)
        return client.post(reverse("api:decisions"), data, content_type=content_type, **extra)

    return call


def whole(response) -> tuple:
    return response.status_code, response.content, list(response.headers.items())


def went_down_the_stack(response) -> bool:
    return hasattr(response.wsgi_request, "session")  # SessionMiddleware ran


@pytest.mark.parametrize(
    ("actor", "principal", "right", "language"),
    [
        (PETER, KAREN, "skat.read_mail", ""),  # permit
        (PETER, KAREN, "skat.view_tax_assessment", "da"),  # right not granted
        (OLE, KAREN, "skat.read_mail", "da-DK,da;q=0.9,en;q=0.8"),  # no power of attorney
        (KAREN, "010245-1234", "skat.read_mail", "fr"),  # oneself
    ],
)
def test_the_answer_is_the_same_with_or_without_the_stack(
    ask, whole_stack, mandate, actor, principal, right, language
):
    question = {"actor": actor, "principal": principal, "right": right}
    ask(question)  # the fast path takes a right once the process holds it
    early = ask(question, HTTP_ACCEPT_LANGUAGE=language)
    whole_stack()
    late = ask(question, HTTP_ACCEPT_LANGUAGE=language)
    assert not went_down_the_stack(early) and went_down_the_stack(late)
    assert whole(early) == whole(late)
    assert early["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_later_answers_carry_the_headers_of_the_stack_for_their_own_moment_and_length(
    ask, whole_stack, mandate, time_machine
):
    permit = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    denial = {"actor": OLE, "principal": KAREN, "right": "skat.read_mail"}
    first = ask(permit)  # the right held, and what the stack adds worked out
    time_machine.move_to(MOMENT + datetime.timedelta(minutes=5), tick=False)
    early = [ask(permit), ask(denial), ask(permit, HTTP_ACCEPT_LANGUAGE="en")]
    whole_stack()
    late = [ask(permit), ask(denial), ask(permit, HTTP_ACCEPT_LANGUAGE="en")]
    assert not any(map(went_down_the_stack, early)) and all(map(went_down_the_stack, late))
    assert [whole(response) for response in early] == [whole(response) for response in late]
    assert early[0]["Expires"] != first["Expires"]
    assert early[0]["Content-Length"] != early[1]["Content-Length"]


def test_a_revoked_mandate_is_refused_at_the_next_request_before_the_stack(ask, mandate, karen):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    assert ask(question).json()["decision"] == "permit"
    attorney_services.revoke(power_of_attorney=mandate, acting_user=karen)
    answer = ask(question)
    assert not went_down_the_stack(answer)
    assert (answer.json()["decision"], answer.json()["reason"]) == ("deny", "revoked")


@pytest.mark.parametrize(
    ("body", "token"),
    [
        (
            {"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "at": "2026-01-01T00:00:00Z"},
            "skat",
        ),
        ({"actor": PETER, "principal": KAREN, "right": "skat.read_mail", "as_of": "now"}, "skat"),
        ({"actor": PETER, "principal": KAREN, "right": "skat.no_such_right"}, "skat"),
        ('{"actor": "1503752345"', "skat"),
        ({"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}, None),
        ({"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}, "wrong"),
    ],
)
def test_what_the_fast_path_does_not_take_goes_down_the_whole_stack_unchanged(
    ask, whole_stack, skat_token, mandate, body, token
):
    token = skat_token if token == "skat" else token
    early = ask(body, token=token)
    whole_stack()
    late = ask(body, token=token)
    assert went_down_the_stack(early) and went_down_the_stack(late)
    assert whole(early) == whole(late)


def test_a_request_with_a_cookie_goes_down_the_whole_stack(ask, mandate):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    ask(question)  # the fast path takes a right once the process holds it
    response = ask(question, HTTP_COOKIE="a=b")
    assert went_down_the_stack(response)
    assert response.json()["decision"] == "permit"


def test_other_methods_and_addresses_go_down_the_whole_stack(skat_token, mandate):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {skat_token}"}
    assert went_down_the_stack(client.get(reverse("api:decisions"), **auth))
    letter = {"recipient": KAREN, "subject": "Hej", "body": "Brev"}
    sent = client.post(reverse("api:letters"), json.dumps(letter), content_type="application/json", **auth)
    assert went_down_the_stack(sent) and sent.status_code == 201


def test_a_batch_is_answered_the_same_with_or_without_the_stack(skat_token, whole_stack, mandate):
    client = Client()
    questions = [
        {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": OLE, "principal": KAREN, "right": "skat.read_mail"},
        {"actor": KAREN, "principal": KAREN, "right": "skat.view_tax_assessment"},
    ]

    def send():
        return client.post(
            reverse("api:decisions_batch"),
            json.dumps({"questions": questions}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {skat_token}",
            HTTP_X_REQUEST_ID="req-2",
            HTTP_ACCEPT_LANGUAGE="da",
        )

    send()  # the fast path takes rights once the process holds them
    early = send()
    whole_stack()
    late = send()
    assert not went_down_the_stack(early) and went_down_the_stack(late)
    assert whole(early) == whole(late)
    assert [a["reason"] for a in early.json()["answers"]] == [
        "power_of_attorney",
        "no_power_of_attorney",
        "self",
    ]


def test_an_error_is_answered_as_the_whole_stack_answers_it(ask, whole_stack, monkeypatch, mandate):
    def broken(**kwargs):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(views, "authorize_by_cpr", broken)
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    ask({**question, "at": "2026-01-01T00:00:00Z"})  # the process holds the right from now on
    early = ask(question, HTTP_ACCEPT_LANGUAGE="da")
    whole_stack()
    late = ask(question, HTTP_ACCEPT_LANGUAGE="da")
    assert not went_down_the_stack(early) and went_down_the_stack(late)
    assert early.status_code == 500
    assert whole(early) == whole(late)


def test_a_changed_security_policy_is_sent_from_the_next_answer(ask, whole_stack, mandate, settings):
    question = {"actor": PETER, "principal": KAREN, "right": "skat.read_mail"}
    ask(question)
    assert "script-src 'self'" in ask(question)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    early = ask(question)
    whole_stack()
    late = ask(question)
    assert not went_down_the_stack(early)
    assert early["Content-Security-Policy"] == "default-src 'none'"
    assert whole(early) == whole(late)
