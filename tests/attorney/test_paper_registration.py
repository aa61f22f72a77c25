"""Assisted registration of a power of attorney signed on paper, and revocation by a caseworker."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from attorney import services
from attorney.models import Basis, PowerOfAttorney, Status
from attorney.policy import can_act_for
from portal.errors import NotAllowed
from portal.models import AuditEvent, Notice, OutboundEmail

from ..authorities.test_admin import (
    PDF,
    admin_as,
    assert_does_not_exist,
    make_caseworker,
    make_service_desk,
)
from ..conftest import grant
from ..factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

REGISTER = "admin:attorney_powerofattorney_register_paper"


@pytest.fixture
def skat_caseworker(skat):
    return make_caseworker(skat, email="sagsbehandler.skat@example.dk")


@pytest.fixture
def kommune_caseworker(kommune):
    return make_caseworker(kommune, name="Lise Kommune", email="sagsbehandler.kk@example.dk")


def signed_form(content: bytes = PDF, name: str = "fuldmagt.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def form_data(grantor, attorney_cpr: str, attorney_name: str, chosen, /, **changes) -> dict:
    today = timezone.localdate()
    data = {
        "grantor_national_id": f"{grantor.national_id[:6]}-{grantor.national_id[6:]}",
        "grantor_name": grantor.name,
        "attorney_national_id": attorney_cpr,
        "attorney_name": attorney_name,
        "rights": [right.pk for right in chosen],
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
        "document": signed_form(),
        "identity_checked": "on",
    }
    data.update(changes)
    return data


# --- registration end to end -----------------------------------------------------------------


def test_caseworker_registers_a_signed_paper_form_end_to_end(
    client, login, skat_caseworker, karen, peter, read_mail, tax_statement, skat
):
    admin_as(client, skat_caseworker)
    assert client.get(reverse(REGISTER)).status_code == 200
    response = client.post(
        reverse(REGISTER), form_data(karen, peter.national_id, "peter  jensen", [read_mail, tax_statement])
    )
    mandate = PowerOfAttorney.objects.get(grantor=karen)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:attorney_powerofattorney_change", args=[mandate.pk])

    assert mandate.basis == Basis.PAPER
    assert mandate.registered_by == skat_caseworker
    assert mandate.created_by == skat_caseworker
    assert mandate.status == Status.ACTIVE
    assert mandate.attorney == peter
    assert set(mandate.rights.all()) == {read_mail, tax_statement}
    with mandate.paper_document.open("rb") as stored:
        assert stored.read() == PDF
    assert can_act_for(peter, karen, read_mail)

    # Both are told, once each, and both see it in the portal.
    for party in (karen, peter):
        assert OutboundEmail.objects.filter(
            idempotency_key=f"poa:{mandate.pk}:registered:{party.pk}"
        ).exists()
        assert Notice.objects.filter(recipient=party).count() == 1
    login(client, karen)
    assert client.get(reverse("attorney:detail", args=[mandate.pk])).status_code == 200
    login(client, peter)
    assert client.get(reverse("attorney:detail", args=[mandate.pk])).status_code == 200

    registered = AuditEvent.objects.get(action="power_of_attorney.registered_on_paper")
    assert (registered.actor, registered.principal, registered.authority) == (skat_caseworker, karen, skat)
    assert AuditEvent.objects.filter(
        action="power_of_attorney.accepted", target_id=str(mandate.pk), details__basis=Basis.PAPER
    ).exists()


def test_caseworker_downloads_the_signed_form_but_another_authority_cannot(
    client, skat_caseworker, kommune_caseworker, karen, peter, read_mail
):
    mandate = services.register_paper_power_of_attorney(
        acting_user=skat_caseworker,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=[read_mail],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
        document=ContentFile(PDF, name="form.pdf"),
    )
    url = reverse("admin:attorney_powerofattorney_paper_form", args=[mandate.pk])
    response = admin_as(client, skat_caseworker).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert_does_not_exist(admin_as(client, kommune_caseworker).get(url))


def test_an_attorney_without_an_account_gets_an_invitation_that_starts_on_acceptance(
    client, skat_caseworker, karen, read_mail
):
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER), form_data(karen, "120390-4567", "Anne Jensen", [read_mail])
    )
    assert response.status_code == 302
    mandate = PowerOfAttorney.objects.get(grantor=karen)
    assert (mandate.status, mandate.attorney, mandate.invitee_national_id) == (
        Status.PENDING,
        None,
        "1203904567",
    )
    assert mandate.basis == Basis.PAPER
    assert Notice.objects.filter(recipient=karen).count() == 1

    anne = UserFactory(name="Anne Jensen", national_id="1203904567")
    services.accept(power_of_attorney=mandate, acting_user=anne)
    assert can_act_for(anne, karen, read_mail)


def test_the_add_button_leads_to_the_paper_registration(client, skat_caseworker):
    response = admin_as(client, skat_caseworker).get(reverse("admin:attorney_powerofattorney_add"))
    assert response["Location"] == reverse(REGISTER)
    page = client.get(reverse("admin:attorney_powerofattorney_changelist")).content.decode()
    assert reverse(REGISTER) in page


def test_service_desk_may_register_rights_of_any_authority(karen, peter, read_mail, kommune_mail):
    mandate = services.register_paper_power_of_attorney(
        acting_user=make_service_desk(),
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=[read_mail, kommune_mail],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
        document=ContentFile(PDF, name="form.pdf"),
    )
    assert mandate.status == Status.ACTIVE


# --- bad input: a clear message and nothing changed -------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"grantor_national_id": "311299-9999"}, "grantor_national_id", "No person using the portal"),
        ({"grantor_name": "Someone Else"}, "grantor_national_id", "No person using the portal"),
        ({"grantor_national_id": "12345"}, "grantor_national_id", "10 digits"),
        ({"attorney_national_id": "320190-4567"}, "attorney_national_id", "real date of birth"),
        ({"attorney_national_id": "010245-1234"}, "attorney_national_id", "appoint yourself"),
        ({"document": "not-a-file"}, "document", ""),
        ({"identity_checked": ""}, "identity_checked", ""),
        ({"rights": []}, "rights", ""),
    ],
)
def test_registration_with_bad_input_explains_and_creates_nothing(
    client, skat_caseworker, karen, peter, read_mail, change, field, message
):
    data = form_data(karen, peter.national_id, peter.name, [read_mail], **change)
    if change.get("document") == "not-a-file":
        del data["document"]
    response = admin_as(client, skat_caseworker).post(reverse(REGISTER), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not PowerOfAttorney.objects.exists()


def test_a_right_of_another_authority_in_a_forged_post_is_refused(
    client, skat_caseworker, karen, peter, read_mail, kommune_mail
):
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER), form_data(karen, peter.national_id, peter.name, [read_mail, kommune_mail])
    )
    assert response.status_code == 200
    assert "rights" in response.context["form"].errors
    assert not PowerOfAttorney.objects.exists()


def test_the_service_refuses_another_authoritys_rights_even_without_the_form(
    skat_caseworker, karen, peter, kommune_mail
):
    with pytest.raises(services.ValidationError) as refused:
        services.register_paper_power_of_attorney(
            acting_user=skat_caseworker,
            grantor_national_id=karen.national_id,
            grantor_name=karen.name,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=[kommune_mail],
            valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=30),
            document=ContentFile(PDF, name="form.pdf"),
        )
    assert "rights" in refused.value.message_dict
    assert not PowerOfAttorney.objects.exists()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("fuldmagt.pdf", b"GIF89a not a pdf at all", content_type="application/pdf"),
        SimpleUploadedFile("fuldmagt.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
    ],
)
def test_a_scan_that_is_not_a_pdf_is_refused(client, skat_caseworker, karen, peter, read_mail, upload):
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER), form_data(karen, peter.national_id, peter.name, [read_mail], document=upload)
    )
    assert "not a PDF" in " ".join(response.context["form"].errors["document"])
    assert not PowerOfAttorney.objects.exists()


def test_a_scan_over_the_size_limit_is_refused(client, settings, skat_caseworker, karen, peter, read_mail):
    settings.MAX_UPLOAD_BYTES = len(PDF) - 1
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER), form_data(karen, peter.national_id, peter.name, [read_mail])
    )
    assert "too large" in " ".join(response.context["form"].errors["document"])
    assert not PowerOfAttorney.objects.exists()


def test_an_end_date_in_the_past_is_refused(client, skat_caseworker, karen, peter, read_mail):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER),
        form_data(
            karen,
            peter.national_id,
            peter.name,
            [read_mail],
            valid_from=yesterday.isoformat(),
            valid_until=yesterday.isoformat(),
        ),
    )
    assert response.status_code == 200
    assert {"valid_from", "valid_until"} & set(response.context["form"].errors)
    assert not PowerOfAttorney.objects.exists()


def test_the_service_refuses_an_end_in_the_past(skat_caseworker, karen, peter, read_mail):
    with pytest.raises(services.ValidationError) as refused:
        services.register_paper_power_of_attorney(
            acting_user=skat_caseworker,
            grantor_national_id=karen.national_id,
            grantor_name=karen.name,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=[read_mail],
            valid_from=timezone.now() - datetime.timedelta(days=10),
            valid_until=timezone.now() - datetime.timedelta(days=1),
            document=ContentFile(PDF, name="form.pdf"),
        )
    assert "valid_until" in refused.value.message_dict
    assert not PowerOfAttorney.objects.exists()


def test_an_identical_open_mandate_is_refused(client, skat_caseworker, karen, peter, read_mail):
    grant(karen, peter, [read_mail])
    response = admin_as(client, skat_caseworker).post(
        reverse(REGISTER), form_data(karen, peter.national_id, peter.name, [read_mail])
    )
    assert response.status_code == 200
    assert "exactly these rights" in " ".join(response.context["form"].non_field_errors())
    assert PowerOfAttorney.objects.count() == 1


def test_a_caseworker_cannot_register_a_mandate_they_are_party_to(skat, karen, read_mail):
    caseworker = make_caseworker(skat, national_id="0505805555")
    with pytest.raises(NotAllowed):
        services.register_paper_power_of_attorney(
            acting_user=caseworker,
            grantor_national_id=karen.national_id,
            grantor_name=karen.name,
            attorney_national_id=caseworker.national_id,
            attorney_name=caseworker.name,
            rights=[read_mail],
            valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=30),
            document=ContentFile(PDF, name="form.pdf"),
        )
    assert not PowerOfAttorney.objects.exists()


def test_a_citizen_cannot_register_on_paper(karen, peter, ole, read_mail):
    with pytest.raises(NotAllowed):
        services.register_paper_power_of_attorney(
            acting_user=ole,
            grantor_national_id=karen.national_id,
            grantor_name=karen.name,
            attorney_national_id=peter.national_id,
            attorney_name=peter.name,
            rights=[read_mail],
            valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=30),
            document=ContentFile(PDF, name="form.pdf"),
        )


def test_a_caseworker_without_the_add_permission_cannot_open_the_registration(client, skat):
    caseworker = make_caseworker(skat)
    caseworker.groups.clear()
    assert admin_as(client, caseworker).get(reverse(REGISTER)).status_code == 403


# --- revocation by a caseworker ----------------------------------------------------------------


def revoke_url(mandate) -> str:
    return reverse("admin:attorney_powerofattorney_revoke", args=[mandate.pk])


def test_caseworker_revokes_with_a_reason(
    client, skat_caseworker, active_mandate, karen, peter, read_mail, skat
):
    admin_as(client, skat_caseworker)
    page = client.get(reverse("admin:attorney_powerofattorney_change", args=[active_mandate.pk]))
    assert page.context["revoke_url"] == revoke_url(active_mandate)
    response = client.post(revoke_url(active_mandate), {"reason": "Fuldmagtsgiver er afgået ved døden."})
    assert response.status_code == 302
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.REVOKED
    assert active_mandate.ended_by == skat_caseworker
    assert active_mandate.end_reason == "Fuldmagtsgiver er afgået ved døden."
    assert not can_act_for(peter, karen, read_mail)
    event = AuditEvent.objects.get(action="power_of_attorney.revoked", target_id=str(active_mandate.pk))
    assert (event.actor, event.principal, event.authority) == (skat_caseworker, karen, skat)
    assert event.details["reason"] == "Fuldmagtsgiver er afgået ved døden."
    for party in (karen, peter):
        assert OutboundEmail.objects.filter(
            idempotency_key=f"poa:{active_mandate.pk}:revoked:{party.pk}"
        ).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_revocation_requires_a_reason(client, skat_caseworker, active_mandate, reason):
    response = admin_as(client, skat_caseworker).post(revoke_url(active_mandate), {"reason": reason})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE


def test_the_service_requires_a_reason_too(skat_caseworker, active_mandate):
    with pytest.raises(services.ValidationError) as refused:
        services.revoke_by_caseworker(
            power_of_attorney=active_mandate, acting_user=skat_caseworker, reason=" "
        )
    assert "reason" in refused.value.message_dict
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE


def test_caseworker_of_another_authority_cannot_revoke(client, kommune_caseworker, active_mandate):
    response = admin_as(client, kommune_caseworker).post(revoke_url(active_mandate), {"reason": "Død"})
    assert_does_not_exist(response)
    with pytest.raises(NotAllowed):
        services.revoke_by_caseworker(
            power_of_attorney=active_mandate, acting_user=kommune_caseworker, reason="Død"
        )
    active_mandate.refresh_from_db()
    assert active_mandate.status == Status.ACTIVE


def test_one_shared_right_is_enough_to_revoke_the_whole_mandate(
    kommune_caseworker, karen, peter, read_mail, kommune_mail
):
    mandate = services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    services.revoke_by_caseworker(
        power_of_attorney=mandate, acting_user=kommune_caseworker, reason="Værgemål afgjort af retten"
    )
    assert not can_act_for(peter, karen, read_mail)


def test_a_pending_invitation_can_be_revoked_so_it_cannot_be_accepted_later(
    skat_caseworker, karen, peter, read_mail
):
    mandate = grant(karen, peter, [read_mail])
    services.revoke_by_caseworker(power_of_attorney=mandate, acting_user=skat_caseworker, reason="Død")
    with pytest.raises(services.Conflict):
        services.accept(power_of_attorney=mandate, acting_user=peter)


def test_an_ended_mandate_cannot_be_revoked_again(client, skat_caseworker, active_mandate):
    services.revoke_by_caseworker(power_of_attorney=active_mandate, acting_user=skat_caseworker, reason="Død")
    admin_as(client, skat_caseworker)
    page = client.get(reverse("admin:attorney_powerofattorney_change", args=[active_mandate.pk]))
    assert "revoke_url" not in page.context
    response = client.post(revoke_url(active_mandate), {"reason": "Død igen"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    active_mandate.refresh_from_db()
    assert active_mandate.end_reason == "Død"


def test_the_revoke_action_handles_one_at_a_time_and_ignores_forged_ids(
    client, skat_caseworker, karen, peter, ole, read_mail, kommune_mail
):
    own = grant(karen, peter, [read_mail])
    other = grant(karen, ole, [kommune_mail])
    changelist = reverse("admin:attorney_powerofattorney_changelist")
    admin_as(client, skat_caseworker)
    response = client.post(changelist, {"action": "revoke_selected", "_selected_action": [other.pk]})
    assert response.status_code == 302
    assert response["Location"] != revoke_url(other)
    response = client.post(changelist, {"action": "revoke_selected", "_selected_action": [own.pk]})
    assert response["Location"] == revoke_url(own)
    other.refresh_from_db()
    assert other.status == Status.PENDING


def test_paper_registration_tells_each_party_it_is_registered_and_in_force(
    skat_caseworker, karen, peter, read_mail
):
    peter.preferred_language = "en"
    peter.save(update_fields=["preferred_language"])
    services.register_paper_power_of_attorney(
        acting_user=skat_caseworker,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        attorney_national_id=peter.national_id,
        attorney_name=peter.name,
        rights=[read_mail],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
        document=ContentFile(PDF, name="form.pdf"),
    )
    to_karen, to_peter = Notice.objects.get(recipient=karen), Notice.objects.get(recipient=peter)
    with translation.override("en"):
        assert to_karen.title == "Your power of attorney to Peter Jensen has been registered and is in force"
        assert to_peter.title == (
            "The power of attorney from Karen Jensen has been registered and is in force: "
            "you can now act for Karen Jensen"
        )
    assert "accepted" not in to_karen.subject.lower()
    assert "accepted" not in OutboundEmail.objects.get(recipient=peter.email).subject.lower()


def test_paper_registration_for_an_attorney_without_an_account_says_it_waits_for_them(
    skat_caseworker, karen, read_mail
):
    services.register_paper_power_of_attorney(
        acting_user=skat_caseworker,
        grantor_national_id=karen.national_id,
        grantor_name=karen.name,
        attorney_national_id="120390-4567",
        attorney_name="Anne Jensen",
        rights=[read_mail],
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=30),
        document=ContentFile(PDF, name="form.pdf"),
    )
    with translation.override("en"):
        assert Notice.objects.get(recipient=karen).title == (
            "Your power of attorney to Anne Jensen has been registered and comes into force when "
            "Anne Jensen accepts it"
        )


def test_the_registration_page_explains_who_must_use_the_portal_without_contradiction(
    client, skat_caseworker
):
    client.cookies["django_language"] = "en"
    text = " ".join(admin_as(client, skat_caseworker).get(reverse(REGISTER)).content.decode().split())
    assert "who cannot use the portal" not in text
    assert "The grantor must have an account in the portal with a verified identity" in text
    assert "Each of them gets one notice." in text
