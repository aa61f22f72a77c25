"""A database or Redis outage answers 503 with a plain page; other errors the plain 500 page."""

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from portal import urls as portal_urls


def raising(error: Exception):
    def view(request):
        raise error

    return view


urlpatterns = [
    path("database/", raising(OperationalError("server closed the connection unexpectedly"))),
    path("redis/", raising(RedisConnectionError("Error 111 connecting to redis:6379"))),
    path("bug/", raising(IntegrityError("duplicate key value violates unique constraint"))),
    path("api/v1/decisions", raising(RedisConnectionError("Error 111 connecting to redis:6379"))),
    *portal_urls.urlpatterns,  # the middleware needs the portal's own URLs
]
handler500 = "portal.outage.server_error"


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    browser = Client(raise_request_exception=False)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser


@pytest.mark.parametrize("url", ["/database/", "/redis/"])
def test_an_outage_answers_503_with_a_plain_page(client, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "Traceback" not in page and "connect" not in page and "server closed" not in page


def test_the_outage_page_is_in_the_visitors_language(settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/database/")
    assert response.status_code == 503
    assert '<html lang="da">' in response.content.decode()


def test_any_other_error_is_a_plain_500(client):
    response = client.get("/bug/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "An error occurred" in response.content.decode()
    assert "duplicate key" not in response.content.decode()


def test_the_api_answers_an_outage_with_json(client):
    response = client.post("/api/v1/decisions")
    assert response.status_code == 503
    assert response.json() == {"detail": "The service is temporarily unavailable. Try again shortly."}
