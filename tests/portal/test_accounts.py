import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from portal.models import User

from ..factories import PASSWORD, UserFactory

SIGNUP = {
    "name": "Anne Jensen",
    "national_id": "120390-4567",
    "email": "anne@example.dk",
    "password1": "Et-langt-kodeord-42",
    "password2": "Et-langt-kodeord-42",
    "preferred_language": "da",
}


@pytest.mark.django_db
def test_signup_creates_a_citizen_with_normalised_cpr(client):
    response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="anne@example.dk")
    assert user.national_id == "1203904567"
    assert user.name == "Anne Jensen"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"national_id": "320190-4567"}, "national_id", "real date of birth"),
        ({"national_id": "12345"}, "national_id", "10 digits"),
        ({"password2": "Noget-andet-99"}, "password2", "same password"),
        ({"name": "   "}, "name", ""),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_signup_with_bad_input_explains_and_creates_nothing(client, settings, change, field, message):
    settings.LANGUAGE_CODE = "en"
    response = client.post(reverse("account_signup"), {**SIGNUP, **change}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_with_a_cpr_already_registered_is_refused(client, karen):
    response = client.post(reverse("account_signup"), {**SIGNUP, "national_id": "010245-1234"})
    assert "national_id" in response.context["form"].errors
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_signup_error_is_shown_in_danish_by_default(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "national_id": "320190-4567"})
    assert "fødselsdato" in response.content.decode()


@pytest.mark.django_db
def test_login_with_email_and_password(client, karen):
    response = client.post(reverse("account_login"), {"login": karen.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("attorney:overview")).status_code == 200


@pytest.mark.django_db
def test_login_with_wrong_password_is_refused(client, karen):
    response = client.post(reverse("account_login"), {"login": karen.email, "password": "wrong-one"})
    assert response.status_code == 200
    assert client.get(reverse("attorney:overview")).status_code == 302


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited(client, karen):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": karen.email, "password": "wrong-one"})
    response = client.post(reverse("account_login"), {"login": karen.email, "password": PASSWORD})
    assert response.status_code != 302
    assert client.get(reverse("attorney:overview")).status_code == 302


@pytest.mark.django_db
def test_unverified_email_cannot_log_in_when_verification_is_mandatory(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("attorney:overview")).status_code == 302


@pytest.mark.django_db
def test_staff_without_mfa_is_sent_to_set_it_up(client, login):
    caseworker = UserFactory(is_staff=True)
    login(client, caseworker)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.django_db
def test_staff_with_mfa_logs_in_with_a_code_and_reaches_the_admin(client):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    caseworker = UserFactory(is_staff=True)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(caseworker, secret)
    response = client.post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302  # not logged in until the code is given
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_citizen_cannot_open_the_admin(client, login, karen):
    login(client, karen)
    response = client.get(reverse("admin:index"))
    assert response.status_code in (302, 403)
    assert Authenticator.objects.count() == 0


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
