"""The caseworkers' workspace in the admin: each caseworker sees and changes only their own
authority's records, in every list, change view, search, filter, autocomplete, action and custom
view. The service desk (superusers) sees everything."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from attorney import services as attorney_services
from authorities.applications import services as applications_services
from authorities.catalogue import services as catalogue_services
from authorities.models import (
    ApplicationForm,
    ApplicationStatus,
    ApplicationValueKind,
    AuthorityMembership,
    Letter,
)
from authorities.post import services as post_services
from portal.models import AuditEvent, User

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


# --- helpers shared with tests/attorney/test_paper_registration.py ---------------------------


def make_caseworker(authority, *, name: str = "Sofie Skov", **extra) -> User:
    """A staff member of one authority, in the caseworkers' group, with TOTP set up."""
    extra.setdefault("national_id", None)
    user = UserFactory(name=name, is_staff=True, preferred_language="en", **extra)
    AuthorityMembership.objects.create(user=user, authority=authority)
    user.groups.add(Group.objects.get(name=catalogue_services.CASEWORKER_GROUP))
    TOTP.activate(user, TOTP_SECRET)
    return user


def make_service_desk() -> User:
    user = UserFactory(
        name="Servicedesk", national_id=None, is_staff=True, is_superuser=True, preferred_language="en"
    )
    TOTP.activate(user, TOTP_SECRET)
    return user


def admin_as(client, user):
    """StaffMFAMiddleware only asks whether MFA is set up, so force_login reaches the admin."""
    client.force_login(user)
    return client


def shown(response) -> set:
    """Primary keys of the rows on an admin changelist page."""
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].result_list}


def assert_does_not_exist(response):
    """The admin answers a record outside the scope exactly as one that does not exist."""
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def skat_caseworker(skat):
    return make_caseworker(skat, email="sagsbehandler.skat@example.dk")


@pytest.fixture
def kommune_caseworker(kommune):
    return make_caseworker(kommune, name="Lise Kommune", email="sagsbehandler.kk@example.dk")


@pytest.fixture
def service_desk(db):
    return make_service_desk()


@pytest.fixture
def home_care(kommune):
    return RightFactory(
        service=ServiceFactory(authority=kommune, slug="hjemmehjaelp"),
        code="kobenhavns-kommune.apply_home_care",
    )


@pytest.fixture
def world(karen, peter, ole, skat, kommune, read_mail, tax_statement, kommune_mail, home_care):
    """Karen has letters, applications and a mandate at both authorities, and Ole a mixed one."""
    ApplicationForm.objects.create(
        service=tax_statement.service,
        right=tax_statement,
        value_kind=ApplicationValueKind.AMOUNT,
        value_label_da="Beløb",
        value_label_en="Amount",
    )
    ApplicationForm.objects.create(
        service=home_care.service,
        right=home_care,
        value_kind=ApplicationValueKind.DATE,
        value_label_da="Startdato",
        value_label_en="Start date",
    )
    skat_letter = post_services.send_letter(
        authority=skat,
        citizen=karen,
        subject="Årsopgørelse 2025",
        body="Din årsopgørelse er klar.",
        attachment=ContentFile(PDF, name="aarsopgoerelse.pdf"),
    )
    kommune_letter = post_services.send_letter(
        authority=kommune, citizen=karen, subject="Hjemmepleje på tirsdag", body="Vi kommer kl. 10."
    )
    skat_application = applications_services.submit_application(
        acting_user=karen,
        principal=karen,
        service=tax_statement.service,
        description="Fradrag for kørsel",
        amount=Decimal("1200"),
        attachment=ContentFile(PDF, name="kvittering.pdf"),
    )
    kommune_application = applications_services.submit_application(
        acting_user=karen,
        principal=karen,
        service=home_care.service,
        description="Hjælp til rengøring",
        date_value=datetime.date(2030, 1, 1),
    )
    skat_mandate = attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, tax_statement]), acting_user=peter
    )
    kommune_mandate = attorney_services.accept(
        power_of_attorney=grant(karen, ole, [kommune_mail]), acting_user=ole
    )
    mixed_mandate = grant(ole, peter, [read_mail, kommune_mail])
    return {
        "letter": (skat_letter, kommune_letter),
        "application": (skat_application, kommune_application),
        "powerofattorney": (skat_mandate, kommune_mandate),
        "citizenfile": (skat_letter.citizen_file, kommune_letter.citizen_file),
        "mixed_mandate": mixed_mandate,
    }


CHANGELISTS = {
    "letter": "admin:authorities_letter_changelist",
    "application": "admin:authorities_application_changelist",
    "citizenfile": "admin:authorities_citizenfile_changelist",
    "powerofattorney": "admin:attorney_powerofattorney_changelist",
}
CHANGE_VIEWS = {
    "letter": "admin:authorities_letter_change",
    "application": "admin:authorities_application_change",
    "citizenfile": "admin:authorities_citizenfile_change",
    "powerofattorney": "admin:attorney_powerofattorney_change",
}


# --- logging in ------------------------------------------------------------------------------


def test_caseworker_with_totp_reaches_the_admin_with_force_login(client, skat_caseworker):
    assert admin_as(client, skat_caseworker).get(reverse("admin:index")).status_code == 200


def test_caseworker_without_mfa_is_sent_to_set_it_up(client, skat):
    caseworker = make_caseworker(skat)
    caseworker.authenticator_set.all().delete()
    response = admin_as(client, caseworker).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_the_migrated_group_has_exactly_the_caseworker_permissions():
    group = Group.objects.get(name=catalogue_services.CASEWORKER_GROUP)
    migrated = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert migrated == set(catalogue_services.CASEWORKER_PERMISSIONS)
    catalogue_services.ensure_caseworker_group()
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == migrated


# --- lists, change views, search, filters ----------------------------------------------------


@pytest.mark.parametrize("model", list(CHANGELISTS))
def test_caseworker_lists_only_their_authoritys_records(client, skat_caseworker, world, model):
    own, other = world[model]
    pks = shown(admin_as(client, skat_caseworker).get(reverse(CHANGELISTS[model])))
    assert own.pk in pks
    assert other.pk not in pks


@pytest.mark.parametrize("model", list(CHANGELISTS))
def test_the_other_authoritys_caseworker_sees_the_mirror_image(client, kommune_caseworker, world, model):
    own_at_skat, own_at_kommune = world[model]
    pks = shown(admin_as(client, kommune_caseworker).get(reverse(CHANGELISTS[model])))
    assert own_at_kommune.pk in pks
    assert own_at_skat.pk not in pks


@pytest.mark.parametrize("model", list(CHANGE_VIEWS))
def test_caseworker_opening_another_authoritys_record_by_url_is_told_it_does_not_exist(
    client, skat_caseworker, world, model
):
    own, other = world[model]
    admin_as(client, skat_caseworker)
    assert client.get(reverse(CHANGE_VIEWS[model], args=[own.pk])).status_code == 200
    assert_does_not_exist(client.get(reverse(CHANGE_VIEWS[model], args=[other.pk])))
    history = CHANGE_VIEWS[model].replace("_change", "_history")
    assert_does_not_exist(client.get(reverse(history, args=[other.pk])))


@pytest.mark.parametrize(
    "view",
    [
        "admin:authorities_application_decide",
        "admin:authorities_application_attachment",
    ],
)
def test_custom_application_views_are_scoped_too(client, skat_caseworker, world, view):
    _, kommune_application = world["application"]
    assert_does_not_exist(admin_as(client, skat_caseworker).get(reverse(view, args=[kommune_application.pk])))


def test_a_malformed_id_in_the_url_is_not_an_error(client, skat_caseworker, world):
    admin_as(client, skat_caseworker)
    assert_does_not_exist(client.get(reverse("admin:authorities_letter_change", args=["not-a-uuid"])))
    assert_does_not_exist(client.get(reverse("admin:authorities_application_decide", args=["42"])))


@pytest.mark.parametrize("cpr", ["0102451234", "010245-1234", " 010245-1234 "])
def test_search_by_exact_cpr_with_or_without_hyphen_stays_in_scope(client, skat_caseworker, world, cpr):
    skat_letter, kommune_letter = world["letter"]
    response = admin_as(client, skat_caseworker).get(reverse(CHANGELISTS["letter"]), {"q": cpr})
    assert shown(response) == {skat_letter.pk}


def test_search_does_not_match_part_of_a_cpr_number(client, skat_caseworker, world):
    response = admin_as(client, skat_caseworker).get(reverse(CHANGELISTS["citizenfile"]), {"q": "010245"})
    assert shown(response) == set()


def test_search_by_cpr_finds_mandates_by_grantor_and_attorney(client, skat_caseworker, world, peter):
    skat_mandate, _ = world["powerofattorney"]
    response = admin_as(client, skat_caseworker).get(
        reverse(CHANGELISTS["powerofattorney"]), {"q": "150375-2345"}
    )
    assert shown(response) == {skat_mandate.pk, world["mixed_mandate"].pk}


def test_list_filters_offer_only_the_caseworkers_authority(client, skat_caseworker, world):
    admin_as(client, skat_caseworker)
    for model in ("letter", "citizenfile"):
        page = client.get(reverse(CHANGELISTS[model])).content.decode()
        assert "Danish Tax Agency" in page
        assert "City of Copenhagen" not in page
        assert "Københavns Kommune" not in page
    page = client.get(reverse(CHANGELISTS["application"])).content.decode()
    assert world["application"][1].service.name_da not in page


def test_a_filter_forged_in_the_url_cannot_widen_the_scope(client, skat_caseworker, kommune, world):
    response = admin_as(client, skat_caseworker).get(
        reverse(CHANGELISTS["letter"]), {"citizen_file__authority__id__exact": kommune.pk}
    )
    assert world["letter"][1].pk not in shown(response)


def test_date_hierarchy_stays_in_scope(client, skat_caseworker, world):
    skat_letter, _ = world["letter"]
    # The admin's date hierarchy counts in the portal's time zone (Copenhagen), not in UTC.
    sent = timezone.localtime(skat_letter.sent_at)
    response = admin_as(client, skat_caseworker).get(
        reverse(CHANGELISTS["letter"]), {"sent_at__year": sent.year, "sent_at__month": sent.month}
    )
    assert shown(response) == {skat_letter.pk}


def test_a_mixed_mandate_shows_only_the_caseworkers_rights(
    client, skat_caseworker, world, read_mail, kommune_mail
):
    kommune_mail.name_en = kommune_mail.name_da = "Kommunens post"
    kommune_mail.save()
    read_mail.name_en = read_mail.name_da = "Skattepost"
    read_mail.save()
    admin_as(client, skat_caseworker)
    mixed = world["mixed_mandate"]
    for page in (
        client.get(reverse(CHANGELISTS["powerofattorney"])),
        client.get(reverse(CHANGE_VIEWS["powerofattorney"], args=[mixed.pk])),
    ):
        text = page.content.decode()
        assert "Skattepost" in text
        assert "Kommunens post" not in text
        assert "City of Copenhagen" not in text


def test_catalogue_shows_only_the_caseworkers_authority(
    client, skat_caseworker, world, read_mail, kommune_mail
):
    admin_as(client, skat_caseworker)
    assert read_mail.pk in shown(client.get(reverse("admin:authorities_right_changelist")))
    assert kommune_mail.pk not in shown(client.get(reverse("admin:authorities_right_changelist")))
    assert {
        a.slug
        for a in client.get(reverse("admin:authorities_authority_changelist")).context["cl"].result_list
    } == {"skat"}
    assert_does_not_exist(client.get(reverse("admin:authorities_right_change", args=[kommune_mail.pk])))
    # Caseworkers look the catalogue up; only the service desk edits it.
    response = client.get(reverse("admin:authorities_right_change", args=[read_mail.pk]))
    assert response.context["has_change_permission"] is False


# --- autocomplete ----------------------------------------------------------------------------


def autocomplete(client, *, app_label, model_name, field_name, term=""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )


def test_autocomplete_offers_only_the_caseworkers_records(client, skat_caseworker, world):
    skat_file, kommune_file = world["citizenfile"]
    admin_as(client, skat_caseworker)
    for term in ("", "Karen", "0102451234", "010245-1234"):
        response = autocomplete(
            client, app_label="authorities", model_name="letter", field_name="citizen_file", term=term
        )
        assert response.status_code == 200
        assert {row["id"] for row in response.json()["results"]} == {str(skat_file.pk)}, term


def test_autocomplete_of_rights_and_authorities_stays_in_scope(
    client, skat_caseworker, world, skat, read_mail
):
    admin_as(client, skat_caseworker)
    rights = autocomplete(client, app_label="attorney", model_name="powerofattorney", field_name="rights")
    assert {row["id"] for row in rights.json()["results"]} <= {
        str(pk) for pk in skat.services.values_list("rights", flat=True)
    }
    assert str(read_mail.pk) in {row["id"] for row in rights.json()["results"]}
    authorities = autocomplete(client, app_label="authorities", model_name="service", field_name="authority")
    assert [row["id"] for row in authorities.json()["results"]] == [str(skat.pk)]


def test_caseworker_cannot_look_up_people_through_autocomplete(client, skat_caseworker, world):
    admin_as(client, skat_caseworker)
    response = autocomplete(
        client, app_label="authorities", model_name="citizenfile", field_name="citizen", term="Jensen"
    )
    assert response.status_code == 403


# --- service-desk-only admins ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:portal_user_changelist",
        "admin:authorities_authoritymembership_changelist",
        "admin:attorney_attorneyrequest_changelist",
        "admin:auth_group_changelist",
    ],
)
def test_caseworker_cannot_open_the_service_desks_admins(client, skat_caseworker, url_name):
    assert admin_as(client, skat_caseworker).get(reverse(url_name)).status_code == 403


def test_caseworker_cannot_open_a_citizens_account_by_url(client, skat_caseworker, karen):
    admin_as(client, skat_caseworker)
    assert client.get(reverse("admin:portal_user_change", args=[karen.pk])).status_code in (302, 403)
    assert client.get(reverse("admin:auth_user_password_change", args=[karen.pk])).status_code == 403


def test_staff_without_a_membership_sees_nothing(client, skat, world):
    stray = make_caseworker(skat)
    stray.membership.delete()
    stray = User.objects.get(pk=stray.pk)
    admin_as(client, stray)
    for url_name in CHANGELISTS.values():
        assert client.get(reverse(url_name)).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 403


def test_a_member_outside_the_caseworkers_group_may_do_nothing(client, skat, world):
    member = make_caseworker(skat)
    member.groups.clear()
    admin_as(client, member)
    assert client.get(reverse(CHANGELISTS["letter"])).status_code == 403


def test_service_desk_sees_everything(client, service_desk, world):
    admin_as(client, service_desk)
    for model, url_name in CHANGELISTS.items():
        assert {obj.pk for obj in world[model]} <= shown(client.get(reverse(url_name)))
    for model, url_name in CHANGE_VIEWS.items():
        for obj in world[model]:
            assert client.get(reverse(url_name, args=[obj.pk])).status_code == 200
    events = shown(client.get(reverse("admin:portal_auditevent_changelist")))
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == events
    assert client.get(reverse("admin:portal_user_changelist")).status_code == 200


def test_service_desk_appoints_a_caseworker(client, service_desk, skat):
    person = UserFactory(national_id=None)
    response = admin_as(client, service_desk).post(
        reverse("admin:authorities_authoritymembership_add"), {"user": person.pk, "authority": skat.pk}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_staff
    assert person.membership.authority == skat
    assert person.groups.filter(name=catalogue_services.CASEWORKER_GROUP).exists()
    assert AuditEvent.objects.filter(action="caseworker.appointed", authority=skat).exists()


def test_only_the_service_desk_appoints_caseworkers(skat_caseworker, skat):
    with pytest.raises(PermissionDenied):
        catalogue_services.appoint_caseworker(user=UserFactory(), authority=skat, acting_user=skat_caseworker)


# --- applications ----------------------------------------------------------------------------


def test_caseworker_decides_and_the_citizen_gets_a_letter(client, skat_caseworker, world, karen, skat):
    application, _ = world["application"]
    response = admin_as(client, skat_caseworker).post(
        reverse("admin:authorities_application_decide", args=[application.pk]),
        {"status": ApplicationStatus.APPROVED, "decision_text": "Fradraget er godkendt."},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decision_text == "Fradraget er godkendt."
    letter = Letter.objects.filter(citizen_file__citizen=karen, citizen_file__authority=skat).latest(
        "sent_at"
    )
    assert "Fradraget er godkendt." in letter.body
    assert application.service.name_da in letter.subject  # in Karen's language
    assert AuditEvent.objects.filter(
        action="application.approved", actor=skat_caseworker, authority=skat, target_id=str(application.pk)
    ).exists()
    assert AuditEvent.objects.filter(action="letter.sent", principal=karen, target_id=str(letter.pk)).exists()


def test_a_decision_without_text_is_refused_and_changes_nothing(client, skat_caseworker, world):
    application, _ = world["application"]
    letters = Letter.objects.count()
    response = admin_as(client, skat_caseworker).post(
        reverse("admin:authorities_application_decide", args=[application.pk]),
        {"status": ApplicationStatus.REJECTED, "decision_text": "   "},
    )
    assert response.status_code == 200
    assert "decision_text" in response.context["form"].errors
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert Letter.objects.count() == letters


def test_a_forged_status_is_refused(client, skat_caseworker, world):
    application, _ = world["application"]
    response = admin_as(client, skat_caseworker).post(
        reverse("admin:authorities_application_decide", args=[application.pk]),
        {"status": ApplicationStatus.SUBMITTED, "decision_text": ""},
    )
    assert response.status_code == 200
    assert "status" in response.context["form"].errors


def test_a_final_decision_cannot_be_decided_again(client, skat_caseworker, world):
    application, _ = world["application"]
    applications_services.decide_application_as_caseworker(
        application=application, acting_user=skat_caseworker, status="rejected", decision_text="Nej."
    )
    admin_as(client, skat_caseworker)
    page = client.get(reverse("admin:authorities_application_change", args=[application.pk]))
    assert "decide_url" not in page.context
    response = client.post(
        reverse("admin:authorities_application_decide", args=[application.pk]),
        {"status": ApplicationStatus.APPROVED, "decision_text": "Ja."},
    )
    assert "status" in response.context["form"].errors
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED


def test_caseworker_cannot_decide_another_authoritys_application(client, kommune_caseworker, world):
    application, _ = world["application"]
    response = admin_as(client, kommune_caseworker).post(
        reverse("admin:authorities_application_decide", args=[application.pk]),
        {"status": ApplicationStatus.APPROVED, "decision_text": "Ja."},
    )
    assert_does_not_exist(response)
    with pytest.raises(PermissionDenied):
        applications_services.decide_application_as_caseworker(
            application=application, acting_user=kommune_caseworker, status="approved", decision_text="Ja."
        )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_the_review_action_skips_forged_ids_of_another_authority(client, skat_caseworker, world):
    skat_application, kommune_application = world["application"]
    response = admin_as(client, skat_caseworker).post(
        reverse(CHANGELISTS["application"]),
        {"action": "take_into_review", "_selected_action": [skat_application.pk, kommune_application.pk]},
    )
    assert response.status_code == 302
    skat_application.refresh_from_db()
    kommune_application.refresh_from_db()
    assert skat_application.status == ApplicationStatus.IN_REVIEW
    assert kommune_application.status == ApplicationStatus.SUBMITTED


def test_caseworker_downloads_an_applications_attachment(client, skat_caseworker, world):
    application, _ = world["application"]
    response = admin_as(client, skat_caseworker).get(
        reverse("admin:authorities_application_attachment", args=[application.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Content-Disposition"].startswith("attachment")


def test_caseworker_has_no_generic_add_change_or_delete(client, skat_caseworker, world):
    application, _ = world["application"]
    admin_as(client, skat_caseworker)
    assert client.get(reverse("admin:authorities_letter_add")).status_code == 403
    assert (
        client.get(reverse("admin:authorities_application_delete", args=[application.pk])).status_code == 403
    )
    response = client.post(
        reverse("admin:authorities_application_change", args=[application.pk]), {"status": "approved"}
    )
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


# --- audit trail -----------------------------------------------------------------------------


def test_audit_view_shows_only_events_at_the_caseworkers_authority(client, skat_caseworker, world, skat):
    pks = shown(admin_as(client, skat_caseworker).get(reverse("admin:portal_auditevent_changelist")))
    assert pks == set(AuditEvent.objects.filter(authority=skat).values_list("pk", flat=True))
    assert pks


@pytest.mark.parametrize("cpr", ["0102451234", "010245-1234"])
def test_audit_view_finds_a_citizens_events_by_cpr(client, skat_caseworker, world, karen, skat, cpr):
    application, _ = world["application"]
    applications_services.decide_application_as_caseworker(
        application=application, acting_user=skat_caseworker, status="in_review"
    )
    response = admin_as(client, skat_caseworker).get(
        reverse("admin:portal_auditevent_changelist"), {"q": cpr}
    )
    events = AuditEvent.objects.filter(pk__in=shown(response))
    assert {e.action for e in events} >= {"letter.sent", "application.submitted", "application.in_review"}
    assert all(e.authority_id == skat.pk for e in events)


def test_audit_search_for_an_unknown_cpr_finds_nothing(client, skat_caseworker, world):
    response = admin_as(client, skat_caseworker).get(
        reverse("admin:portal_auditevent_changelist"), {"q": "311299-9999"}
    )
    assert shown(response) == set()


def test_caseworker_cannot_open_another_authoritys_audit_event(client, skat_caseworker, world, kommune):
    event = AuditEvent.objects.filter(authority=kommune).first()
    admin_as(client, skat_caseworker)
    assert_does_not_exist(client.get(reverse("admin:portal_auditevent_change", args=[event.pk])))


def test_audit_events_cannot_be_changed_in_the_admin(client, service_desk, world):
    event = AuditEvent.objects.first()
    admin_as(client, service_desk)
    assert client.post(reverse("admin:portal_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_delete", args=[event.pk])).status_code == 403


def test_caseworker_permissions_come_from_the_group_not_from_the_user(skat_caseworker):
    assert not skat_caseworker.user_permissions.exists()
    assert Permission.objects.filter(group__name=catalogue_services.CASEWORKER_GROUP).count() == len(
        catalogue_services.CASEWORKER_PERMISSIONS
    )
