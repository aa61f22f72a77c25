"""Answers with personal data say Cache-Control: no-store; static files keep their cache headers."""

import json

import pytest
from django.urls import reverse

from attorney import services as attorney_services
from authorities.clients.services import create_api_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def assert_no_store(response):
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_a_letter_and_its_pdf_are_not_stored(client, login, karen, skat_letter):
    login(client, karen)
    assert_no_store(client.get(reverse("authorities:letter", args=[skat_letter.pk])))
    download = client.get(reverse("authorities:letter_attachment", args=[skat_letter.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert_no_store(download)


@pytest.mark.parametrize(
    "name", ["authorities:inbox", "authorities:consents", "attorney:overview", "home", "account_settings"]
)
def test_every_page_for_a_signed_in_person_is_not_stored(client, login, karen, name):
    login(client, karen)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert_no_store(response)


def test_a_redirect_for_a_signed_in_person_is_not_stored(client, login, karen, skat_letter):
    login(client, karen)
    assert_no_store(
        client.post(reverse("authorities:consent_answer", args=[skat_letter.pk]), {"answer": "x"})
    )


@pytest.mark.parametrize("token_kind", ["valid", "missing"])
def test_every_api_answer_is_not_stored(client, skat, read_mail, karen, token_kind):
    headers = {}
    if token_kind == "valid":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {create_api_client(authority=skat, name='Skat')[1]}"
    body = {"actor": "1503752345", "principal": "010245-1234", "right": "skat.read_mail"}
    response = client.post(
        reverse("api:decisions"), json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == (200 if token_kind == "valid" else 401)
    assert_no_store(response)


def test_the_public_access_code_check_is_not_stored(client, active_mandate, peter):
    code = attorney_services.create_access_code(
        power_of_attorney=active_mandate, acting_user=peter, label="Bank"
    )[1]
    response = client.post(reverse("proof"), {"code": code, "surname": "Jensen", "organisation": "Bank"})
    assert "Karen Jensen" in response.content.decode()
    assert_no_store(response)


def test_the_admins_pdf_downloads_are_not_stored(skat_letter):
    from authorities.catalogue.admin_scoping import private_pdf_response

    assert_no_store(private_pdf_response(skat_letter.attachment, "a.pdf"))


def test_a_public_page_for_someone_not_signed_in_may_be_cached(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_static_files_keep_their_cache_headers(client, login, karen, settings):
    settings.WHITENOISE_USE_FINDERS = True
    login(client, karen)
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
