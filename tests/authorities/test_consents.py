import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from attorney import services as attorney_services
from authorities.clients.services import create_api_client
from authorities.consent import services as consent_services
from authorities.models import Consent, ConsentRequest, ConsentRequestStatus, ConsentStatus, DataCategory
from portal.models import AuditEvent

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory

pytestmark = pytest.mark.django_db

KAREN = "0102451234"


@pytest.fixture
def income(skat):
    return DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income", max_days=365
    )


@pytest.fixture
def kommune_consent_right(kommune):
    return RightFactory(
        service=ServiceFactory(authority=kommune, slug="samtykke"), code="kobenhavns-kommune.consent"
    )


@pytest.fixture
def consent_request(kommune, income, karen):
    return consent_services.request_consent(
        authority=kommune,
        citizen_national_id=KAREN,
        category=income,
        purpose_da="Beregne betaling",
        purpose_en="Calculate payment",
        days=30,
    )


@pytest.fixture
def api(client):
    def call(token, method, name, data=None, **query):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        url = reverse(f"api:{name}")
        if method == "get":
            return client.get(url, query, **headers)
        return client.post(url, json.dumps(data), content_type="application/json", **headers)

    return call


@pytest.fixture
def kommune_token(kommune):
    return create_api_client(authority=kommune, name="KK")[1]


@pytest.fixture
def ud_token(db):
    from ..factories import AuthorityFactory

    return create_api_client(authority=AuthorityFactory(slug="udbetaling-danmark"), name="UD")[1]


def check(api, token):
    return api(token, "get", "consent_check", citizen=KAREN, category="skat.income").json()


# --- lifecycle and the check API ---------------------------------------------------------------


def test_grant_makes_the_check_say_granted(api, kommune_token, consent_request, karen):
    assert check(api, kommune_token)["consent"] == "none"
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    answer = check(api, kommune_token)
    assert answer["consent"] == "granted"
    assert datetime.datetime.fromisoformat(answer["valid_until"]) == consent.valid_until


def test_refuse_keeps_the_check_at_none(api, kommune_token, consent_request, karen):
    consent_services.refuse_consent(consent_request=consent_request, acting_user=karen, principal=karen)
    assert check(api, kommune_token) == {"consent": "none", "valid_until": None}
    assert ConsentRequest.objects.get().status == ConsentRequestStatus.REFUSED


def test_withdraw_takes_effect_at_once(api, kommune_token, consent_request, karen):
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    consent_services.withdraw_consent(consent=consent, acting_user=karen, principal=karen)
    assert check(api, kommune_token)["consent"] == "none"
    assert Consent.objects.get().status == ConsentStatus.WITHDRAWN


def test_one_second_after_expiry_the_check_says_none_without_any_job(
    api, kommune_token, consent_request, karen, time_machine
):
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    time_machine.move_to(consent.valid_until - datetime.timedelta(seconds=1), tick=False)
    assert check(api, kommune_token)["consent"] == "granted"
    time_machine.move_to(consent.valid_until + datetime.timedelta(seconds=1), tick=False)
    assert check(api, kommune_token)["consent"] == "none"
    assert Consent.objects.get().status == ConsentStatus.GRANTED  # nothing has tidied up yet
    assert consent_services.expire_due_consents() == 1
    assert Consent.objects.get().status == ConsentStatus.EXPIRED
    assert consent_services.expire_due_consents() == 0


def test_an_answered_request_cannot_be_answered_again(consent_request, karen):
    consent_services.refuse_consent(consent_request=consent_request, acting_user=karen, principal=karen)
    with pytest.raises(ValidationError):
        consent_services.grant_consent(consent_request=consent_request, acting_user=karen, principal=karen)
    assert not Consent.objects.exists()


def test_another_authority_cannot_see_the_consent(api, ud_token, consent_request, karen):
    consent_services.grant_consent(consent_request=consent_request, acting_user=karen, principal=karen)
    assert check(api, ud_token)["consent"] == "none"


def test_expiry_reminder_is_sent_once(consent_request, karen, time_machine, run_on_commit):
    from django.core import mail

    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    time_machine.move_to(consent.valid_until - datetime.timedelta(days=3))
    with run_on_commit():
        assert consent_services.send_consent_reminders() == 1
        assert consent_services.send_consent_reminders() == 0
    assert [m.to for m in mail.outbox] == [[karen.email]]


def test_a_new_request_notifies_the_citizen(kommune, income, karen, run_on_commit):
    from django.core import mail

    with run_on_commit():
        consent_services.request_consent(
            authority=kommune,
            citizen_national_id=KAREN,
            category=income,
            purpose_da="x",
            purpose_en="y",
            days=10,
        )
    assert [m.to for m in mail.outbox] == [[karen.email]]


# --- the request API -----------------------------------------------------------------------------


def consent_body(**changes):
    body = {
        "citizen": "010245-1234",
        "category": "skat.income",
        "purpose_da": "Formål",
        "purpose_en": "Purpose",
        "days": 30,
    }
    body.update(changes)
    return body


def test_request_api_creates_a_pending_request(api, kommune_token, income, karen):
    response = api(kommune_token, "post", "consent_requests", consent_body())
    assert response.status_code == 201
    consent_request = ConsentRequest.objects.get(pk=response.json()["id"])
    assert consent_request.status == ConsentRequestStatus.PENDING
    assert consent_request.authority.slug == "kobenhavns-kommune"


def test_request_for_an_unknown_citizen_looks_the_same(api, kommune_token, income, karen):
    known = api(kommune_token, "post", "consent_requests", consent_body())
    unknown = api(kommune_token, "post", "consent_requests", consent_body(citizen="120390-4567"))
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json()) == {"id"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "skat.unknown"}, "category"),
        ({"days": 366}, "days"),
        ({"days": 0}, "days"),
        ({"citizen": "999999-9999"}, "citizen"),
        ({"purpose_da": ""}, "purpose_da"),
        ({"days": "many"}, "days"),
    ],
)
def test_bad_consent_request_is_400_and_saves_nothing(api, kommune_token, income, changes, field):
    response = api(kommune_token, "post", "consent_requests", consent_body(**changes))
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ConsentRequest.objects.exists()


def test_check_needs_citizen_and_category(api, kommune_token):
    assert api(kommune_token, "get", "consent_check").status_code == 400


# --- answering in the portal, for oneself and as an attorney ------------------------------------


def test_karen_grants_in_the_portal(client, login, consent_request, karen):
    login(client, karen)
    page = client.get(reverse("authorities:consents"))
    assert page.context["pending"] == [consent_request]
    client.post(reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"})
    assert Consent.objects.get().given_by == karen


def test_attorney_without_the_consent_right_cannot_answer(
    client, login, active_mandate, consent_request, karen, peter, kommune_consent_right
):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    response = client.post(
        reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}
    )
    # Like a letter outside the acting right, the request is not there for him at all.
    assert response.status_code == 404
    assert not Consent.objects.exists()
    with pytest.raises(PermissionDenied):
        consent_services.grant_consent(consent_request=consent_request, acting_user=peter, principal=karen)


def test_attorney_with_the_consent_right_answers_and_karen_sees_it_was_peter(
    client, login, consent_request, karen, peter, kommune_consent_right
):
    attorney_services.accept(
        power_of_attorney=grant(karen, peter, [kommune_consent_right]), acting_user=peter
    )
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    client.post(reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"})
    consent = Consent.objects.get()
    assert (consent.citizen, consent.given_by) == (karen, peter)
    login(client, karen)
    events = list(client.get(reverse("authorities:done_in_my_name")).context["page"])
    assert [(e.actor, e.action) for e in events] == [(peter, "consent.granted")]
    assert "Peter Jensen" in client.get(reverse("authorities:consents")).content.decode()


def test_withdrawing_someone_elses_consent_by_forged_post_is_404(client, login, consent_request, karen, ole):
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    login(client, ole)
    assert client.post(reverse("authorities:consent_withdraw", args=[consent.pk])).status_code == 404
    assert Consent.objects.get().status == ConsentStatus.GRANTED


def test_answering_someone_elses_request_by_forged_post_is_404(client, login, consent_request, ole):
    login(client, ole)
    assert (
        client.post(
            reverse("authorities:consent_answer", args=[consent_request.pk]), {"answer": "grant"}
        ).status_code
        == 404
    )
    assert not Consent.objects.exists()


def test_withdraw_needs_a_confirmation_step(client, login, consent_request, karen):
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    login(client, karen)
    assert client.get(reverse("authorities:consent_withdraw", args=[consent.pk])).status_code == 200
    assert Consent.objects.get().status == ConsentStatus.GRANTED
    client.post(reverse("authorities:consent_withdraw", args=[consent.pk]))
    assert Consent.objects.get().status == ConsentStatus.WITHDRAWN


def test_everything_is_audited(consent_request, karen):
    consent = consent_services.grant_consent(
        consent_request=consent_request, acting_user=karen, principal=karen
    )
    consent_services.withdraw_consent(consent=consent, acting_user=karen, principal=karen)
    actions = list(
        AuditEvent.objects.filter(action__startswith="consent.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["consent.requested", "consent.granted", "consent.withdrawn"]
