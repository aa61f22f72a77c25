"""The start page ("Overblik"): what waits for a person and whom they can act for."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from attorney import services
from authorities.consent import services as consent_services
from authorities.consent.models import DataCategory
from authorities.post import services as post_services
from portal.adapters import PREVIOUS_VISIT_SESSION_KEY
from portal.audit import record_event
from portal.models import AuditEvent, Notice

from ..conftest import grant
from ..factories import PASSWORD, UserFactory

START = reverse("authorities:start")


@pytest.fixture
def income(skat):
    return DataCategory.objects.create(
        authority=skat, code="skat.income", name_da="Indkomst", name_en="Income", max_days=365
    )


def ask_consent(authority, citizen, category):
    return consent_services.request_consent(
        authority=authority,
        citizen_national_id=citizen.national_id,
        category=category,
        purpose_da="Beregne betaling",
        purpose_en="Calculate payment",
        days=30,
    )


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page_text(response) -> str:
    return " ".join(response.content.decode().split())


def test_login_lands_on_the_start_page(client, karen):
    response = client.post(reverse("account_login"), {"login": karen.email, "password": PASSWORD})
    assert response["Location"] == START


def test_a_caseworker_lands_in_the_admin(client, db):
    caseworker = UserFactory(is_staff=True)
    response = client.post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD})
    assert response["Location"] == reverse("admin:index")


def test_start_page_needs_login(client):
    response = client.get(START)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_what_waits_is_listed_with_links(client, karen, peter, ole, skat, read_mail, income):
    services.request_power_of_attorney(
        acting_user=ole,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        rights=[read_mail],
        valid_until=timezone.now() + datetime.timedelta(days=100),
        message="",
    )
    invitation = grant(peter, karen, [read_mail])
    consent_request = ask_consent(skat, karen, income)
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Årsopgørelse 2026", body="b")
    ending = services.accept(power_of_attorney=grant(karen, peter, [read_mail], days=10), acting_user=peter)
    client.force_login(karen)
    in_english(client)
    with translation.override("en"):
        response = client.get(START)
    text = page_text(response)
    assert response.status_code == 200
    assert "Ole Hansen asks you for a power of attorney" in text
    assert "Peter Jensen wants to give you a power of attorney" in text
    assert "Danish Tax Agency asks for your consent to use your data" in text
    assert "1 unread letter" in text and "Årsopgørelse 2026" in text
    assert "Your power of attorney to Peter Jensen ends soon" in text
    content = response.content.decode()
    for url in (
        reverse("attorney:detail", args=[invitation.pk]),
        f"{reverse('authorities:consents')}#anmodning-{consent_request.pk}",
        reverse("authorities:letter", args=[letter.pk]),
        reverse("attorney:detail", args=[ending.pk]),
    ):
        assert f'href="{url}"' in content


def test_a_read_letter_and_a_mandate_ending_later_do_not_wait(client, login, karen, peter, skat, read_mail):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Læst brev", body="b")
    services.accept(power_of_attorney=grant(karen, peter, [read_mail], days=200), acting_user=peter)
    login(client, karen, reauthenticate=False)
    in_english(client)
    client.get(reverse("authorities:letter", args=[letter.pk]))

    text = page_text(client.get(START))
    assert "Læst brev" not in text
    assert "ends soon" not in text and "udløber snart" not in text


def test_the_start_page_is_in_danish_by_default(client, karen, peter, read_mail):
    grant(peter, karen, [read_mail])
    client.force_login(karen)
    response = client.get(START)
    assert '<html lang="da">' in response.content.decode()
    assert "Peter Jensen vil give dig en fuldmagt" in page_text(response)


def test_the_people_one_can_act_for_have_a_button_to_act_for_them(client, karen, peter, active_mandate):
    client.force_login(peter)
    content = client.get(START).content.decode()
    assert f'action="{reverse("attorney:act_for")}"' in content
    assert f'name="grantor" value="{karen.pk}"' in content


def test_nobody_else_is_offered_to_act_for(client, karen, ole, active_mandate):
    client.force_login(ole)
    assert f'name="grantor" value="{karen.pk}"' not in client.get(START).content.decode()


def test_done_in_my_name_since_the_last_visit_only(client, karen, peter, active_mandate, skat):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Brev", body="b")
    client.force_login(peter)
    session = client.session
    session["acting_for"] = karen.pk
    session.save()
    client.get(reverse("authorities:letter", args=[letter.pk]))
    read = AuditEvent.objects.get(action="letter.read")

    client.force_login(karen)
    session = client.session
    session[PREVIOUS_VISIT_SESSION_KEY] = (read.created_at - datetime.timedelta(seconds=1)).isoformat()
    session.save()
    in_english(client)
    with translation.override("en"):
        text = page_text(client.get(START))
    assert "Peter Jensen read a letter" in text

    session = client.session
    session[PREVIOUS_VISIT_SESSION_KEY] = (read.created_at + datetime.timedelta(seconds=1)).isoformat()
    session.save()
    with translation.override("en"):
        text = page_text(client.get(START))
    assert "Peter Jensen read a letter" not in text
    assert "Nobody has done anything in your name since" in text


def test_login_remembers_the_previous_visit(client, login, karen):
    earlier = timezone.now() - datetime.timedelta(days=3)
    karen.last_login = earlier
    karen.save(update_fields=["last_login"])
    login(client, karen, reauthenticate=False)
    assert client.session[PREVIOUS_VISIT_SESSION_KEY] == earlier.isoformat()


def test_notices_are_on_the_start_page_and_marked_read(client, karen, peter, active_mandate):
    client.force_login(karen)
    in_english(client)
    assert Notice.objects.filter(recipient=karen, read_at__isnull=True).exists()
    with translation.override("en"):
        text = page_text(client.get(START))
    assert "Peter Jensen has accepted your power of attorney" in text
    assert not Notice.objects.filter(recipient=karen, read_at__isnull=True).exists()


def test_a_notice_about_something_waiting_is_not_shown_twice(client, karen, peter, read_mail):
    invitation = grant(karen, peter, [read_mail])
    client.force_login(peter)
    in_english(client)
    text = page_text(client.get(START))
    assert (
        text.count("Karen Jensen vil give dig en fuldmagt")
        + text.count("Karen Jensen wants to give you a power of attorney")
        == 1
    )
    assert Notice.objects.filter(recipient=peter, link__contains=str(invitation.pk)).exists()


def test_the_same_notice_twice_is_shown_once(client, karen, active_mandate):
    notice = Notice.objects.filter(recipient=karen).first()
    Notice.objects.create(
        recipient=karen,
        subject=notice.subject,
        link=notice.link,
        template=notice.template,
        params=notice.params,
    )
    client.force_login(karen)
    in_english(client)
    with translation.override("en"):
        text = page_text(client.get(START))
    assert text.count(notice.title) == 1


def test_the_old_notices_address_leads_to_the_start_page(client, karen):
    client.force_login(karen)
    response = client.get(reverse("notices") + "?side=2")
    assert response.status_code == 302
    assert response["Location"] == START + "?side=2"


def test_the_menu_has_the_start_page(client, karen):
    client.force_login(karen)
    assert f'href="{START}"' in client.get(reverse("authorities:inbox")).content.decode()


def test_an_unverified_account_is_told_how_to_verify(client, db):
    client.force_login(UserFactory(unverified=True))
    response = client.get(START)
    assert response.status_code == 403
    assert "portal/identity.html" in [t.name for t in response.templates]


def add_one_of_each(karen, n, *, skat, read_mail, tax_statement, income):
    """Someone waiting for Karen's answer, an invitation to her, a mandate to and from her ending
    within 30 days, a consent request, an unread letter and something done in her name."""
    person = UserFactory(name=f"Person {n}")
    services.request_power_of_attorney(
        acting_user=person,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        rights=[read_mail],
        valid_until=timezone.now() + datetime.timedelta(days=100),
        message="",
    )
    grant(person, karen, [read_mail])
    services.accept(power_of_attorney=grant(person, karen, [tax_statement], days=10), acting_user=karen)
    services.accept(power_of_attorney=grant(karen, person, [read_mail], days=10), acting_user=person)
    ask_consent(skat, karen, income)
    post_services.send_letter(authority=skat, citizen=karen, subject=f"Brev {n}", body="b")
    record_event(action="letter.read", actor=person, principal=karen)


def test_the_start_page_reads_as_many_queries_for_six_of_everything_as_for_one(
    client, karen, skat, read_mail, tax_statement, income
):
    things = {"skat": skat, "read_mail": read_mail, "tax_statement": tax_statement, "income": income}
    client.force_login(karen)
    add_one_of_each(karen, 0, **things)
    with CaptureQueriesContext(connection) as one:
        assert client.get(START).status_code == 200
    for n in range(1, 6):
        add_one_of_each(karen, n, **things)
    with CaptureQueriesContext(connection) as six:
        response = client.get(START)
    assert response.status_code == 200
    assert response.content.decode().count("Person 5") >= 3  # the new items are on the page
    assert len(six) == len(one), [q["sql"][:120] for q in six.captured_queries]
