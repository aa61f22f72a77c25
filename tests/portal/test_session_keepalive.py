"""The timeout warning's "Stay logged in" (portal.views.session_keepalive)."""

import pytest
from django.urls import reverse

URL = reverse("session_keepalive")


@pytest.mark.django_db
def test_stay_logged_in_renews_the_session_of_a_logged_in_person(client, login, karen):
    login(client, karen)
    response = client.post(URL)
    assert response.status_code == 204
    assert "sessionid" in response.cookies  # the session's expiry starts over


@pytest.mark.django_db
def test_stay_logged_in_after_the_session_ended_says_so(client):
    assert client.post(URL).status_code == 401


@pytest.mark.django_db
def test_stay_logged_in_is_only_a_post(client, login, karen):
    login(client, karen)
    assert client.get(URL).status_code == 405
