"""No page of the main journeys shows an event code such as ``power_of_attorney.registered_on_paper``:
every event reaches a person in the event catalogue's words, in Danish and in English."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from attorney import services
from attorney.models import PowerOfAttorney
from authorities.models import Letter, Right
from portal.events import Action
from portal.models import AuditEvent, User

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CODES = re.compile("|".join(re.escape(code) for code in sorted(Action.values, key=len, reverse=True)))
HIDDEN = re.compile(r"(?s)<script.*?</script>|<style.*?</style>|<[^>]+>")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def world(db):
    """The demo world, with a power of attorney registered from a paper form and a letter read by Peter."""
    call_command("seed_demo")
    people = {user.email: user for user in User.objects.all()}
    karen, peter = people["karen@example.dk"], people["peter@example.dk"]
    services.register_paper_power_of_attorney(
        acting_user=people["sagsbehandler.skat@example.dk"],
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=[Right.objects.get(code="skat.read_mail")],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=20),
        document=ContentFile(PDF, name="form.pdf"),
    )
    assert AuditEvent.objects.filter(action=Action.POWER_OF_ATTORNEY_REGISTERED_ON_PAPER).exists()
    return people


def visible_text(html: str) -> str:
    return HIDDEN.sub(" ", html)


def pages_of(user: User, *, acting_for: User | None = None) -> list[str]:
    mandates = PowerOfAttorney.objects.filter(grantor=user) | PowerOfAttorney.objects.filter(attorney=user)
    urls = [
        reverse("authorities:start"),
        reverse("attorney:overview"),
        reverse("authorities:done_in_my_name"),
        reverse("authorities:done_for_others"),
        reverse("authorities:inbox"),
        reverse("authorities:applications"),
        reverse("authorities:consents"),
        reverse("attorney:act_for"),
    ]
    if acting_for is None:
        urls += [reverse("attorney:detail", args=[mandate.pk]) for mandate in mandates]
    return urls


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("who", ["karen@example.dk", "peter@example.dk"])
def test_no_page_of_the_citizens_shows_an_event_code(client, world, language, who):
    user = world[who]
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if who == "peter@example.dk":
        # What he does for Karen shows up on her pages and on his "done for others".
        client.post(reverse("attorney:act_for"), {"grantor": world["karen@example.dk"].pk})
        for letter in Letter.objects.filter(citizen_file__citizen=world["karen@example.dk"])[:3]:
            client.get(reverse("authorities:letter", args=[letter.pk]))
    for url in pages_of(user):
        response = client.get(url)
        assert response.status_code == 200, url
        shown = CODES.findall(visible_text(response.content.decode()))
        assert not shown, f"{url} shows {shown}"


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_admin_page_of_the_audit_trail_shows_an_event_code(client, world, language):
    caseworker = world["sagsbehandler.skat@example.dk"]
    client.force_login(caseworker)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    mandate = PowerOfAttorney.objects.filter(registered_by=caseworker).first()
    for url in (
        reverse("admin:portal_auditevent_changelist"),
        reverse("admin:attorney_powerofattorney_change", args=[mandate.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        shown = CODES.findall(visible_text(response.content.decode()))
        assert not shown, f"{url} shows {shown}"


def test_the_check_finds_a_code_when_one_is_shown():
    assert CODES.findall(visible_text("<p>power_of_attorney.registered_on_paper</p>"))
    assert not CODES.findall(visible_text('<option value="letter.read">Brev læst</option>'))
