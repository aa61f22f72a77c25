import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_front_page_is_danish_by_default(client):
    html = client.get("/").content.decode()
    assert '<html lang="da">' in html
    assert "Gå til sidens indhold" in html
    assert "Tilgængelighedserklæring" in html


@pytest.mark.django_db
def test_language_switch_shows_the_same_page_in_english(client):
    response = client.post(reverse("switch_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Go to the page content" in html
    assert "Accessibility statement" in html


@pytest.mark.django_db
def test_language_names_are_in_their_own_language(client):
    html = client.get("/").content.decode()
    assert 'lang="da"' in html and ">Dansk<" in html
    assert 'lang="en"' in html and ">English<" in html


@pytest.mark.django_db
def test_language_choice_is_remembered_on_the_account(client, login, karen):
    login(client, karen)
    client.post(reverse("switch_language"), {"language": "en", "next": "/"})
    karen.refresh_from_db()
    assert karen.preferred_language == "en"


@pytest.mark.django_db
def test_language_switch_ignores_foreign_next_url(client):
    response = client.post(reverse("switch_language"), {"language": "en", "next": "https://evil.example/"})
    assert "evil.example" not in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["home", "accessibility", "account_login", "account_signup", "account_reset_password"]
)
@pytest.mark.parametrize("language", ["da", "en"])
def test_public_pages_render_in_both_languages(client, name, language):
    client.cookies["django_language"] = language
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()


@pytest.mark.django_db
def test_header_shows_the_signed_in_person_and_log_out(client, login, karen):
    login(client, karen)
    html = client.get("/").content.decode()
    assert "Karen Jensen" in html
    assert reverse("account_logout") in html


def test_production_mode_refuses_to_start_without_a_secret_key(monkeypatch):
    import subprocess
    import sys

    env = {"DJANGO_ENV": "production", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_mode_refuses_to_start_without_allowed_hosts():
    import subprocess
    import sys

    env = {"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": "x" * 60, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr
