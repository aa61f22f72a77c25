import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from attorney import services
from attorney.models import AccessCode, AccessCodeView
from portal.errors import NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(active_mandate, peter):
    return services.create_access_code(
        power_of_attorney=active_mandate, acting_user=peter, label="Danske Bank"
    )[1]


def check(client, code, surname="Jensen", organisation="Danske Bank, Aarhus"):
    return client.post(reverse("proof"), {"code": code, "surname": surname, "organisation": organisation})


def test_code_is_readable_and_random(active_mandate, peter):
    codes = {
        services.create_access_code(power_of_attorney=active_mandate, acting_user=peter)[1] for _ in range(20)
    }
    assert len(codes) == 20
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 12
        assert set(raw) <= set(services.ACCESS_CODE_ALPHABET)
        assert not set(raw) & set("01OIL")


def test_only_a_hash_is_stored(code):
    stored = AccessCode.objects.get()
    assert code.replace("-", "") not in (stored.code_hash, stored.code_end)


def test_summary_shows_the_mandate_while_it_is_in_force(client, code, settings):
    settings.LANGUAGE_CODE = "en"
    client.cookies["django_language"] = "en"
    response = check(client, code)
    assert response.status_code == 200
    html = response.content.decode()
    assert "In force right now" in html
    assert "Peter Jensen may act for Karen Jensen" in html


def test_code_works_typed_in_lower_case_without_hyphens(client, code):
    assert check(client, code.lower().replace("-", " ")).context["mandate"] is not None


def test_summary_shows_ended_after_revocation(client, code, active_mandate, karen):
    from attorney.services import revoke

    revoke(power_of_attorney=active_mandate, acting_user=karen)
    client.cookies["django_language"] = "en"
    html = check(client, code).content.decode()
    assert "Not in force" in html
    assert "Læse" not in html and "Ret " not in html  # the old rights are not shown


def test_wrong_code_and_wrong_surname_look_the_same(client, code):
    wrong_surname = check(client, code, surname="Hansen")
    wrong_code = check(client, "ABCD-EFGH-JKMN")
    assert wrong_surname.status_code == wrong_code.status_code == 200
    assert wrong_surname.context["form"].non_field_errors() == wrong_code.context["form"].non_field_errors()
    assert "mandate" not in wrong_surname.context and "mandate" not in wrong_code.context


def test_repeated_wrong_surnames_lock_the_code(client, code):
    for _ in range(services.ACCESS_CODE_MAX_WRONG_SURNAMES):
        check(client, code, surname="Hansen")
    assert "mandate" not in check(client, code).context  # even the right surname is refused now
    assert AccessCode.objects.get().locked_until > timezone.now()


def test_lock_lifts_after_a_day(client, code, time_machine):
    for _ in range(services.ACCESS_CODE_MAX_WRONG_SURNAMES):
        check(client, code, surname="Hansen")
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    from django.core.cache import cache

    cache.clear()
    assert check(client, code).context["mandate"] is not None


def test_rate_limit_per_client_address(client, code):
    statuses = [check(client, f"AAAA-BBBB-{n:04d}").status_code for n in range(31)]
    assert statuses[-1] == 429


def test_rate_limit_per_code_across_addresses(client, code):
    for n in range(10):
        check(client, code, organisation=f"Org {n}", surname="Hansen") if n < 4 else check(client, code)
    response = client.post(
        reverse("proof"), {"code": code, "surname": "Jensen", "organisation": "x"}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 429


def test_expired_and_revoked_codes_do_not_work(client, active_mandate, peter, karen, time_machine):
    access_code, code = services.create_access_code(power_of_attorney=active_mandate, acting_user=karen)
    services.revoke_access_code(access_code=access_code, acting_user=peter)
    assert "mandate" not in check(client, code).context
    _, fresh = services.create_access_code(power_of_attorney=active_mandate, acting_user=karen)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=31))
    assert "mandate" not in check(client, fresh).context


def test_every_view_is_logged_and_visible_to_both_parties(client, login, code, active_mandate, karen, peter):
    check(client, code, organisation="Danske Bank, Aarhus")
    view = AccessCodeView.objects.get()
    assert view.viewer_label == "Danske Bank, Aarhus"
    for person in (karen, peter):
        login(client, person)
        html = client.get(reverse("attorney:detail", args=[active_mandate.pk])).content.decode()
        assert "Danske Bank, Aarhus" in html


def test_other_people_cannot_make_or_revoke_codes(active_mandate, ole):
    with pytest.raises(NotAllowed):
        services.create_access_code(power_of_attorney=active_mandate, acting_user=ole)


def test_no_code_for_a_mandate_not_in_force(karen, peter, read_mail):
    from ..conftest import grant

    pending = grant(karen, peter, [read_mail])
    with pytest.raises(ValidationError):
        services.create_access_code(power_of_attorney=pending, acting_user=karen)


def test_code_is_shown_once_on_creation_page(client, login, active_mandate, peter):
    login(client, peter)
    response = client.post(
        reverse("attorney:access_code_create", args=[active_mandate.pk]), {"label": "Bolig"}
    )
    assert response.status_code == 200
    assert len(response.context["code"]) == 14
    assert (
        response.context["code"]
        not in client.get(reverse("attorney:detail", args=[active_mandate.pk])).content.decode()
    )


def test_someone_else_cannot_make_a_code_through_the_page(client, login, active_mandate, ole):
    login(client, ole)
    assert client.post(reverse("attorney:access_code_create", args=[active_mandate.pk])).status_code == 404
    assert not AccessCode.objects.exists()


def test_bad_input_on_the_public_page_is_explained(client):
    response = client.post(reverse("proof"), {"code": "", "surname": "", "organisation": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"code", "surname", "organisation"}
