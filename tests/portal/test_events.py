"""The event catalogue: every action has a plain label and a sentence, in Danish and English."""

import pytest
from django.urls import reverse
from django.utils import translation

from portal import events
from portal.audit import record_event
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_action_outside_the_catalogue_is_refused(karen):
    with pytest.raises(ValueError):
        record_event(action="power_of_attorney.teleported", actor=karen)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("action", events.Action.values)
def test_every_action_has_a_sentence(action):
    assert events.Action(action) in events.SENTENCES


def test_every_label_and_sentence_has_danish_words():
    for action in events.Action:
        for text_of in (events.label, events.sentence):
            with translation.override("en"):
                english = text_of(action)
            with translation.override("da"):
                danish = text_of(action)
            assert english and danish and danish != english, (action, english)


def test_done_in_my_name_shows_sentences_not_codes(client, login, karen, peter, active_mandate, skat):
    from authorities.post import services as post_services

    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Skat", body="Brev")
    post_services.mark_letter_read(letter=letter, acting_user=peter, on_behalf_of=karen)
    login(client, karen)
    page = client.get(reverse("authorities:done_in_my_name")).content.decode()
    assert "letter.read" not in page
    with translation.override("da"):
        assert events.sentence("letter.read").capitalize() in page
