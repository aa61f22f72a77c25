import pytest
from django.urls import reverse

from authorities.post import services as post_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def peter_read_a_letter(client, login, active_mandate, karen, peter, skat):
    letter = post_services.send_letter(
        authority=skat, citizen=karen, subject="Restskat", body="Betal 100 kr."
    )
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    client.get(reverse("authorities:letter", args=[letter.pk]))
    return letter


def test_karen_sees_what_peter_did_in_her_name(client, login, karen, peter, peter_read_a_letter):
    login(client, karen)
    response = client.get(reverse("authorities:done_in_my_name"))
    events = list(response.context["page"])
    assert [(e.actor, e.action) for e in events] == [(peter, "letter.read")]
    html = response.content.decode()
    assert "Peter Jensen" in html and "Restskat" in html


def test_her_own_actions_and_mandate_changes_are_not_listed_as_done_in_her_name(
    client, login, karen, active_mandate, skat
):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Eget brev", body="x")
    login(client, karen)
    client.get(reverse("authorities:letter", args=[letter.pk]))
    assert list(client.get(reverse("authorities:done_in_my_name")).context["page"]) == []


def test_peter_sees_what_he_did_for_others(client, login, peter, karen, peter_read_a_letter):
    login(client, peter)
    events = list(client.get(reverse("authorities:done_for_others")).context["page"])
    assert [(e.principal, e.action) for e in events] == [(karen, "letter.read")]


def test_ole_sees_nothing_of_karens_history(client, login, ole, peter_read_a_letter):
    login(client, ole)
    assert list(client.get(reverse("authorities:done_in_my_name")).context["page"]) == []
    assert list(client.get(reverse("authorities:done_for_others")).context["page"]) == []


def test_history_filters_by_authority(client, login, karen, kommune, peter_read_a_letter):
    login(client, karen)
    assert (
        list(client.get(reverse("authorities:done_in_my_name"), {"authority": kommune.pk}).context["page"])
        == []
    )


def test_bad_filter_values_do_not_fail(client, login, karen, peter_read_a_letter):
    login(client, karen)
    response = client.get(reverse("authorities:done_in_my_name"), {"after": "not-a-date", "authority": "x"})
    assert response.status_code == 200
