import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from authorities.applications import services as applications_services
from authorities.models import Application, ApplicationForm, ApplicationStatus, ApplicationValueKind
from portal.models import AuditEvent

from ..factories import RightFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def correction(tax_statement, skat):
    """Skat's 'annual statement' service takes applications under skat.view_tax_assessment (Peter holds it)."""
    form = ApplicationForm.objects.create(
        service=tax_statement.service,
        right=tax_statement,
        value_kind=ApplicationValueKind.AMOUNT,
        value_label_da="Beløb",
        value_label_en="Amount",
        amount_min=0,
        amount_max=100_000,
    )
    return form.service


@pytest.fixture
def home_care(kommune):
    right = RightFactory(
        service=ServiceFactory(authority=kommune, slug="hjemmehjaelp"),
        code="kobenhavns-kommune.apply_home_care",
    )
    form = ApplicationForm.objects.create(
        service=right.service,
        right=right,
        value_kind=ApplicationValueKind.DATE,
        value_label_da="Start",
        value_label_en="Start",
    )
    return form.service


def apply_url(service):
    return reverse("authorities:apply", args=[service.authority.slug, service.slug])


@pytest.fixture
def peter_acting(client, login, active_mandate, karen, peter):
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    return client


def test_attorney_submits_an_application_for_the_citizen(peter_acting, karen, peter, correction):
    response = peter_acting.post(
        apply_url(correction), {"description": "Fradrag mangler", "amount": "1250,50"}
    )
    application = Application.objects.get()
    assert response["Location"] == reverse("authorities:application", args=[application.pk])
    assert (application.submitted_by, application.on_behalf_of) == (peter, karen)
    assert application.citizen_file.citizen == karen
    assert str(application.amount) == "1250.50"
    assert application.status == ApplicationStatus.SUBMITTED
    event = AuditEvent.objects.get(action="application.submitted")
    assert (event.actor, event.principal) == (peter, karen)


def test_attorney_cannot_open_the_form_for_a_right_he_lacks(peter_acting, home_care):
    response = peter_acting.get(apply_url(home_care))
    assert response.status_code == 403
    assert reverse("attorney:request_create") in response.content.decode()


def test_forged_post_for_a_right_he_lacks_saves_nothing(peter_acting, home_care):
    response = peter_acting.post(apply_url(home_care), {"description": "Hjælp", "date_value": "2027-01-01"})
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_service_layer_refuses_an_application_without_the_right(peter, karen, home_care, active_mandate):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        applications_services.submit_application(
            acting_user=peter, principal=karen, service=home_care, description="x", date_value=None
        )
    assert not Application.objects.exists()


def test_another_citizen_cannot_apply_for_karen(ole, karen, correction):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        applications_services.submit_application(
            acting_user=ole, principal=karen, service=correction, description="x", amount=1
        )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"description": "", "amount": "100"}, "description"),
        ({"description": "x", "amount": ""}, "amount"),
        ({"description": "x", "amount": "-5"}, "amount"),
        ({"description": "x", "amount": "100000000"}, "amount"),
        ({"description": "x", "amount": "mange penge"}, "amount"),
    ],
)
def test_bad_application_input_is_explained_and_saves_nothing(peter_acting, correction, data, field):
    response = peter_acting.post(apply_url(correction), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"MZ\x90\x00 not a pdf", "scan.pdf"), (b"%PDF-" + b"0" * (10 * 1024 * 1024 + 1), "big.pdf")],
)
def test_bad_attachment_is_refused_by_content(peter_acting, correction, content, name):
    response = peter_acting.post(
        apply_url(correction),
        {"description": "x", "amount": "10", "attachment": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert "attachment" in response.context["form"].errors
    assert not Application.objects.exists()


def test_pdf_attachment_is_accepted(peter_acting, correction):
    peter_acting.post(
        apply_url(correction),
        {"description": "x", "amount": "10", "attachment": SimpleUploadedFile("a.txt", PDF)},
    )
    assert Application.objects.get().attachment


def test_citizen_sees_her_applications_and_their_status(
    client, login, karen, peter, correction, active_mandate
):
    application = applications_services.submit_application(
        acting_user=peter, principal=karen, service=correction, description="x", amount=5
    )
    applications_services.decide_application(
        application=application, acting_user=None, status=ApplicationStatus.IN_REVIEW
    )
    login(client, karen)
    listed = list(client.get(reverse("authorities:applications")).context["applications"])
    assert listed == [application]
    html = client.get(reverse("authorities:application", args=[application.pk])).content.decode()
    assert peter.name in html


def test_other_people_cannot_see_an_application(client, login, karen, ole, correction):
    application = applications_services.submit_application(
        acting_user=karen, principal=karen, service=correction, description="x", amount=5
    )
    for person, expected in ((ole, 404), (UserFactory(is_staff=True, national_id=None), 403)):
        login(client, person)
        assert client.get(reverse("authorities:application", args=[application.pk])).status_code == expected


def test_decision_is_final(karen, correction):
    from django.core.exceptions import ValidationError

    application = applications_services.submit_application(
        acting_user=karen, principal=karen, service=correction, description="x", amount=5
    )
    applications_services.decide_application(
        application=application, acting_user=None, status=ApplicationStatus.APPROVED, decision_text="Ja"
    )
    with pytest.raises(ValidationError):
        applications_services.decide_application(
            application=application, acting_user=None, status=ApplicationStatus.REJECTED, decision_text="Nej"
        )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_a_decision_needs_a_text(karen, correction):
    from django.core.exceptions import ValidationError

    application = applications_services.submit_application(
        acting_user=karen, principal=karen, service=correction, description="x", amount=5
    )
    with pytest.raises(ValidationError):
        applications_services.decide_application(
            application=application, acting_user=None, status=ApplicationStatus.APPROVED
        )
