import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from attorney import services
from portal.celery import app as celery_app

from .factories import PASSWORD, AuthorityFactory, RightFactory, ServiceFactory, UserFactory

# The smallest file that passes the portal's PDF check.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def private_media(settings, tmp_path):
    """Uploaded and sent files go to a directory of the test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def skat_letter(karen, skat, private_media):
    """A letter from Skattestyrelsen to Karen, with a PDF attached."""
    from django.core.files.base import ContentFile

    from authorities.post.services import send_letter

    return send_letter(
        authority=skat,
        citizen=karen,
        subject="Årsopgørelse",
        body="Din årsopgørelse er klar.",
        attachment=ContentFile(PDF, name="aarsopgoerelse.pdf"),
    )


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in-process in unit tests; integration tests start a real worker instead.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    cache.clear()
    # Tests start as a portal without MitID (the local test login is on by default in development);
    # the eID tests configure their own IdP, the local test login's tests switch it on.
    settings.EID_LOCAL_TEST_LOGIN = False
    settings.SOCIALACCOUNT_PROVIDERS = {"saml": {**settings.SOCIALACCOUNT_PROVIDERS["saml"], "APPS": []}}
    yield
    cache.clear()


@pytest.fixture
def skat(db):
    return AuthorityFactory(slug="skat", name_da="Skattestyrelsen", name_en="Danish Tax Agency")


@pytest.fixture
def kommune(db):
    return AuthorityFactory(
        slug="kobenhavns-kommune", name_da="Københavns Kommune", name_en="City of Copenhagen"
    )


@pytest.fixture
def read_mail(skat):
    return RightFactory(service=ServiceFactory(authority=skat, slug="digital-post"), code="skat.read_mail")


@pytest.fixture
def tax_statement(skat):
    return RightFactory(
        service=ServiceFactory(authority=skat, slug="aarsopgoerelse"), code="skat.view_tax_assessment"
    )


@pytest.fixture
def kommune_mail(kommune):
    return RightFactory(
        service=ServiceFactory(authority=kommune, slug="digital-post"), code="kobenhavns-kommune.read_mail"
    )


@pytest.fixture
def karen(db):
    return UserFactory(name="Karen Jensen", national_id="0102451234", email="karen@example.dk")


@pytest.fixture
def peter(db):
    return UserFactory(name="Peter Jensen", national_id="1503752345", email="peter@example.dk")


@pytest.fixture
def ole(db):
    return UserFactory(name="Ole Hansen", national_id="2308603456", email="ole@example.dk")


def grant(grantor, attorney, rights, *, days=365, start_in_days=0):
    now = timezone.now()
    return services.grant_power_of_attorney(
        acting_user=grantor,
        attorney_national_id=attorney.national_id,
        attorney_name=attorney.name,
        rights=rights,
        valid_from=now + datetime.timedelta(days=start_in_days),
        valid_until=now + datetime.timedelta(days=start_in_days + days),
    )


@pytest.fixture
def active_mandate(karen, peter, read_mail, tax_statement):
    mandate = grant(karen, peter, [read_mail, tax_statement])
    return services.accept(power_of_attorney=mandate, acting_user=peter)


@pytest.fixture
def login():
    """Log a person in through allauth's real login form, then confirm the password once more, as a
    person does before a legal act (allauth counts only an explicit reauthentication for that)."""

    def _login(client, user, *, reauthenticate=True):
        client.logout()
        response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        if reauthenticate:
            response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
            assert response.status_code == 302, response.content[:500]
        return client

    return _login


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Tests run inside a transaction that never commits; this runs the on-commit work (emails) anyway."""

    def _run():
        return django_capture_on_commit_callbacks(execute=True)

    return _run
