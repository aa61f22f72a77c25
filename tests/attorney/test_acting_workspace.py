"""While acting for someone, every page is about them or says plainly that it is one's own."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from attorney import policy, services
from attorney.acting import tasks_for
from attorney.models import PowerOfAttorney
from attorney.policy import Reason
from authorities.applications.models import ApplicationForm, ApplicationValueKind
from authorities.applications.services import submit_application
from authorities.post import services as post_services
from portal.audit import record_event

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory

OWN_PAGE_NOTE = 'class="alert alert-info alert--paragraph own-page-note"'


@pytest.fixture
def home_care(kommune):
    right = RightFactory(
        service=ServiceFactory(authority=kommune, slug="hjemmehjaelp"),
        code="kobenhavns-kommune.apply_home_care",
    )
    ApplicationForm.objects.create(
        service=right.service,
        right=right,
        value_kind=ApplicationValueKind.DATE,
        value_label_da="Start",
        value_label_en="Start",
    )
    return right


@pytest.fixture
def acting(client, karen, peter, active_mandate):
    client.force_login(peter)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    assert response.status_code == 302
    return client


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.mark.parametrize(
    "url",
    [
        reverse("attorney:overview"),
        reverse("authorities:start"),
        reverse("account_settings"),
        reverse("identity"),
        reverse("authorities:done_for_others"),
    ],
)
def test_own_pages_say_so_and_offer_to_stop_acting(acting, url):
    response = acting.get(url)
    content = response.content.decode()
    assert OWN_PAGE_NOTE in content
    assert "This page is about your own affairs, not Karen Jensen" in text_of(response)
    assert f'action="{reverse("attorney:stop_acting")}"' in content


@pytest.mark.parametrize(
    "url",
    [
        reverse("authorities:inbox"),
        reverse("authorities:applications"),
        reverse("authorities:consents"),
        reverse("authorities:done_in_my_name"),
        reverse("authorities:data_uses"),
        reverse("attorney:act_for"),
    ],
)
def test_pages_about_the_principal_have_no_own_page_note(acting, url):
    response = acting.get(url)
    # The use of Karen's data is refused without her consent right: that refusal is about her too.
    assert response.status_code in (200, 403)
    assert OWN_PAGE_NOTE not in response.content.decode()


def test_without_acting_no_page_has_the_note(client, peter, active_mandate):
    client.force_login(peter)
    assert OWN_PAGE_NOTE not in client.get(reverse("attorney:overview")).content.decode()


def test_applications_while_acting_are_the_principals(
    acting, client, karen, peter, kommune, home_care, active_mandate
):
    karens = submit_application(
        acting_user=karen,
        principal=karen,
        service=home_care.service,
        description="Hjælp til indkøb",
        date_value=datetime.date.today(),
    )
    services.accept(power_of_attorney=grant(karen, peter, [home_care]), acting_user=peter)
    response = acting.get(reverse("authorities:applications"))
    assert reverse("authorities:application", args=[karens.pk]) in response.content.decode()
    assert "Shown for Karen Jensen" in text_of(response)


def test_done_in_my_name_while_acting_shows_what_the_attorney_did_for_the_principal(
    acting, karen, peter, ole, skat
):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Årsopgørelse", body="b")
    acting.get(reverse("authorities:letter", args=[letter.pk]))
    record_event(action="letter.read", actor=ole, principal=karen, details={"subject": "Ole's read"})
    record_event(action="letter.read", actor=karen, principal=peter, details={"subject": "Peter's own"})

    text = text_of(acting.get(reverse("authorities:done_in_my_name")))
    assert "Done in Karen Jensen's name" in text
    assert "Årsopgørelse" in text
    assert "Ole's read" not in text
    assert "Peter's own" not in text


def test_each_right_in_the_act_for_list_leads_to_its_task(
    acting, karen, peter, skat, kommune, home_care, read_mail
):
    services.accept(power_of_attorney=grant(karen, peter, [home_care]), acting_user=peter)
    content = acting.get(reverse("attorney:act_for")).content.decode()
    assert f'href="{reverse("authorities:inbox")}?authority={skat.pk}"' in content
    assert f'href="{reverse("authorities:apply", args=[kommune.slug, "hjemmehjaelp"])}"' in content
    assert "Read the letters from" in content


def test_the_inbox_link_of_a_right_shows_only_that_authoritys_letters(acting, karen, skat, kommune):
    post_services.send_letter(authority=skat, citizen=karen, subject="Fra skat", body="b")
    post_services.send_letter(authority=kommune, citizen=karen, subject="Fra kommunen", body="b")
    text = text_of(acting.get(f"{reverse('authorities:inbox')}?authority={skat.pk}"))
    assert "Fra skat" in text and "Fra kommunen" not in text


def test_a_right_without_a_task_in_the_portal_says_where_it_is_used(acting, tax_statement):
    response = acting.get(reverse("attorney:use_right", args=[tax_statement.code]))
    assert response.status_code == 200
    assert "own self-service" in text_of(response)


def test_the_right_page_links_to_the_task(acting, read_mail, skat):
    response = acting.get(reverse("attorney:use_right", args=[read_mail.code]))
    assert f'href="{reverse("authorities:inbox")}?authority={skat.pk}"' in response.content.decode()


def test_tasks_are_found_for_read_mail_applications_and_consent(read_mail, tax_statement, home_care, kommune):
    consent = RightFactory(
        service=ServiceFactory(authority=kommune, slug="samtykke"), code="kobenhavns-kommune.consent"
    )
    tasks = tasks_for([read_mail, tax_statement, home_care, consent])
    assert set(tasks) == {read_mail.pk, home_care.pk, consent.pk}
    assert tasks[consent.pk].url == reverse("authorities:consents")


def test_a_right_only_in_an_expired_mandate_is_not_called_expired_while_another_is_in_force(
    acting, karen, peter, home_care, kommune
):
    old = grant(karen, peter, [home_care], days=10)
    services.accept(power_of_attorney=old, acting_user=peter)
    PowerOfAttorney.objects.filter(pk=old.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=30),
        valid_until=timezone.now() - datetime.timedelta(days=1),
    )
    decision = policy.authorize(actor=peter, principal=karen, right=home_care)
    assert decision.reason == Reason.RIGHT_NOT_GRANTED

    response = acting.get(reverse("authorities:apply", args=[kommune.slug, "hjemmehjaelp"]))
    assert response.status_code == 403
    text = text_of(response)
    assert "Your power of attorney does not cover this." in text
    assert "expired" not in text


def test_without_any_mandate_in_force_an_expired_one_is_called_expired(karen, peter, home_care):
    old = grant(karen, peter, [home_care], days=10)
    services.accept(power_of_attorney=old, acting_user=peter)
    PowerOfAttorney.objects.filter(pk=old.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=30),
        valid_until=timezone.now() - datetime.timedelta(days=1),
    )
    assert policy.authorize(actor=peter, principal=karen, right=home_care).reason == Reason.EXPIRED


def test_a_revoked_mandate_is_called_ended(karen, peter, home_care):
    mandate = services.accept(power_of_attorney=grant(karen, peter, [home_care]), acting_user=peter)
    services.revoke(power_of_attorney=mandate, acting_user=karen)
    assert policy.authorize(actor=peter, principal=karen, right=home_care).reason == Reason.REVOKED


def test_a_waiting_offer_with_the_right_is_offered_instead_of_asking(
    acting, karen, peter, home_care, kommune
):
    offer = grant(karen, peter, [home_care])
    response = acting.get(reverse("authorities:apply", args=[kommune.slug, "hjemmehjaelp"]))
    assert response.status_code == 403
    assert "you have not accepted it yet" in text_of(response)
    assert f'href="{reverse("attorney:detail", args=[offer.pk])}"' in response.content.decode()


def test_another_persons_waiting_offer_is_not_mentioned(acting, ole, peter, home_care, kommune, karen):
    grant(ole, peter, [home_care])
    response = acting.get(reverse("authorities:apply", args=[kommune.slug, "hjemmehjaelp"]))
    assert "you have not accepted it yet" not in text_of(response)


def test_applications_say_plainly_when_the_mandate_covers_none(acting):
    text = text_of(acting.get(reverse("authorities:applications")))
    assert "Your power of attorney from Karen Jensen does not cover applications" in text


def test_when_the_mandate_is_revoked_the_next_page_says_it_was_ended(acting, karen, active_mandate):
    services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    response = acting.get(reverse("authorities:inbox"), follow=True)
    assert "You are no longer acting for Karen Jensen. Your power of attorney has been ended." in text_of(
        response
    )


def test_when_the_mandate_runs_out_the_next_page_says_it_expired(acting, active_mandate):
    PowerOfAttorney.objects.filter(pk=active_mandate.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=30),
        activated_at=timezone.now() - datetime.timedelta(days=30),
        valid_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    response = acting.get(reverse("authorities:inbox"))
    assert "You are no longer acting for Karen Jensen. Your power of attorney has expired." in text_of(
        response
    )
