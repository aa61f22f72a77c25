import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from attorney import services as attorney_services
from authorities.models import Letter, LetterRead
from authorities.post import services as post_services
from portal.models import AuditEvent

from ..conftest import PDF
from ..factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def kommune_letter(karen, kommune):
    return post_services.send_letter(
        authority=kommune,
        citizen=karen,
        subject="Hjemmepleje",
        body="Vi kommer tirsdag.",
        attachment=ContentFile(PDF, name="besoeg.pdf"),
    )


@pytest.fixture
def peter_acting_for_karen(client, login, active_mandate, karen, peter):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    return client


def test_citizen_sees_all_her_letters(client, login, karen, skat_letter, kommune_letter):
    login(client, karen)
    page = client.get(reverse("authorities:inbox")).context["page"]
    assert {letter.pk for letter in page} == {skat_letter.pk, kommune_letter.pk}


def test_attorney_sees_only_letters_from_authorities_where_he_holds_read_mail(
    peter_acting_for_karen, skat_letter, kommune_letter
):
    page = peter_acting_for_karen.get(reverse("authorities:inbox")).context["page"]
    assert [letter.pk for letter in page] == [skat_letter.pk]


def test_attorney_can_open_a_covered_letter_and_its_attachment(peter_acting_for_karen, skat_letter):
    assert peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code == 200
    response = peter_acting_for_karen.get(reverse("authorities:letter_attachment", args=[skat_letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_uncovered_letter_answers_404_by_url_and_by_attachment(peter_acting_for_karen, kommune_letter):
    assert (
        peter_acting_for_karen.get(reverse("authorities:letter", args=[kommune_letter.pk])).status_code == 404
    )
    assert (
        peter_acting_for_karen.get(
            reverse("authorities:letter_attachment", args=[kommune_letter.pk])
        ).status_code
        == 404
    )
    assert not LetterRead.objects.exists()


def test_attorney_not_acting_sees_only_his_own_post(client, login, active_mandate, peter, skat_letter):
    login(client, peter)
    assert list(client.get(reverse("authorities:inbox")).context["page"]) == []
    assert client.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code == 404


def test_people_without_a_mandate_see_nothing_of_karens(client, login, ole, skat_letter):
    login(client, ole)
    assert list(client.get(reverse("authorities:inbox")).context["page"]) == []
    assert client.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code == 404
    assert client.get(reverse("authorities:letter_attachment", args=[skat_letter.pk])).status_code == 404


def test_an_account_without_a_verified_cpr_number_reaches_no_letters(client, login, skat_letter):
    login(client, UserFactory(is_staff=True, national_id=None))
    for url in (
        reverse("authorities:inbox"),
        reverse("authorities:letter", args=[skat_letter.pk]),
        reverse("authorities:letter_attachment", args=[skat_letter.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert skat_letter.subject not in response.content.decode()


def test_anonymous_is_sent_to_login(client, skat_letter):
    for url in (reverse("authorities:inbox"), reverse("authorities:letter", args=[skat_letter.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_a_letter_read_by_the_attorney_is_read_by_him_for_her(
    peter_acting_for_karen, karen, peter, skat_letter
):
    peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk]))
    read = LetterRead.objects.get()
    assert (read.reader, read.on_behalf_of) == (peter, karen)
    event = AuditEvent.objects.get(action="letter.read")
    assert (event.actor, event.principal, event.authority) == (
        peter,
        karen,
        skat_letter.citizen_file.authority,
    )
    page = peter_acting_for_karen.get(reverse("authorities:inbox")).context["page"]
    assert page[0].is_read


def test_unread_marker_is_per_reader(client, login, peter_acting_for_karen, karen, skat_letter):
    peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk]))
    login(client, karen)
    assert not client.get(reverse("authorities:inbox")).context["page"][0].is_read


def test_after_revocation_the_next_request_for_a_letter_is_refused(
    peter_acting_for_karen, active_mandate, karen, skat_letter
):
    assert peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code == 200
    attorney_services.revoke(power_of_attorney=active_mandate, acting_user=karen)
    assert peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code == 404
    assert (
        peter_acting_for_karen.get(
            reverse("authorities:letter_attachment", args=[skat_letter.pk])
        ).status_code
        == 404
    )
    assert list(peter_acting_for_karen.get(reverse("authorities:inbox")).context["page"]) == []


def test_after_expiry_the_next_request_for_a_letter_is_refused(
    peter_acting_for_karen, active_mandate, skat_letter, time_machine
):
    time_machine.move_to(active_mandate.valid_until + datetime.timedelta(seconds=1), tick=False)
    assert peter_acting_for_karen.get(reverse("authorities:letter", args=[skat_letter.pk])).status_code in (
        302,
        404,
    )


def test_a_new_letter_is_covered_by_the_existing_grant(peter_acting_for_karen, karen, skat):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Ny", body="Nyt brev")
    assert peter_acting_for_karen.get(reverse("authorities:letter", args=[letter.pk])).status_code == 200


def test_inbox_filters_by_authority(client, login, karen, skat, skat_letter, kommune_letter):
    login(client, karen)
    page = client.get(reverse("authorities:inbox"), {"authority": skat.pk}).context["page"]
    assert [letter.pk for letter in page] == [skat_letter.pk]


def test_inbox_with_a_bad_filter_value_does_not_fail(client, login, karen, skat_letter):
    login(client, karen)
    for value in ("abc", "999999", "'; drop table"):
        assert client.get(reverse("authorities:inbox"), {"authority": value, "side": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"hello", "letter.pdf", "not_pdf"),
        (b"%PDF-1.4" + b"0" * (10 * 1024 * 1024), "big.pdf", "file_too_large"),
    ],
)
def test_letter_attachment_must_be_a_pdf_of_at_most_10_mb(karen, skat, content, name, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        post_services.send_letter(
            authority=skat, citizen=karen, subject="x", body="y", attachment=SimpleUploadedFile(name, content)
        )
    assert error.value.code == code
    assert not Letter.objects.exists()


def test_inbox_with_1000_letters_uses_a_constant_number_of_queries(
    client, login, karen, skat, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post_services.send_letter(authority=skat, citizen=karen, subject="1", body="b")
    login(client, karen)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("authorities:inbox"))
    citizen_file = Letter.objects.get().citizen_file
    Letter.objects.bulk_create(
        Letter(citizen_file=citizen_file, subject=f"Brev {n}", body="b") for n in range(999)
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("authorities:inbox"))
    assert len(response.context["page"]) == 20
    assert response.context["page"].paginator.count == 1000


def test_inbox_while_acting_uses_a_constant_number_of_queries(
    peter_acting_for_karen, karen, skat, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post_services.send_letter(authority=skat, citizen=karen, subject="1", body="b")
    with CaptureQueriesContext(connection) as small:
        peter_acting_for_karen.get(reverse("authorities:inbox"))
    citizen_file = Letter.objects.get().citizen_file
    Letter.objects.bulk_create(
        Letter(citizen_file=citizen_file, subject=f"Brev {n}", body="b") for n in range(999)
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        peter_acting_for_karen.get(reverse("authorities:inbox"))
