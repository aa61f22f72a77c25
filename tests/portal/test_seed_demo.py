import pytest
from django.core.management import call_command

from attorney.models import PowerOfAttorney, Status
from attorney.policy import authorize, can_act_for
from authorities.models import Authority, Right
from portal.models import User
from representation.models import RegisterImport, Representation


@pytest.mark.django_db
def test_seed_demo_can_run_twice_without_duplicating_anything():
    call_command("seed_demo")
    counts = (User.objects.count(), Right.objects.count(), PowerOfAttorney.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Right.objects.count(), PowerOfAttorney.objects.count()) == counts


@pytest.mark.django_db
def test_seed_demo_creates_the_documented_world():
    call_command("seed_demo")
    assert set(Authority.objects.values_list("slug", flat=True)) == {
        "skat",
        "udbetaling-danmark",
        "kobenhavns-kommune",
        "familieretshuset",
    }
    for slug in ("skat", "udbetaling-danmark", "kobenhavns-kommune", "familieretshuset"):
        assert Right.objects.filter(code=f"{slug}.read_mail").exists()
    karen = User.objects.get(national_id="0102451234")
    peter = User.objects.get(national_id="1503752345")
    ole = User.objects.get(national_id="2308603456")
    assert can_act_for(peter, karen, Right.objects.get(code="skat.read_mail"))
    assert can_act_for(peter, karen, Right.objects.get(code="udbetaling-danmark.read_mail"))
    assert not can_act_for(ole, karen, Right.objects.get(code="skat.read_mail"))
    statuses = set(PowerOfAttorney.objects.filter(grantor=karen).values_list("status", flat=True))
    assert {Status.ACTIVE, Status.PENDING, Status.EXPIRED} <= statuses
    from portal.demo import CASEWORKERS

    staff = set(User.objects.filter(is_staff=True).values_list("email", flat=True))
    assert staff == {email for email, _name, _authority in CASEWORKERS}


@pytest.mark.django_db
def test_seed_demo_leaves_an_emergency_request_for_the_two_desk_caseworkers():
    from attorney.models import EmergencyRequest, EmergencyStatus
    from portal.demo import SERVICE_DESK

    call_command("seed_demo")
    emergency = EmergencyRequest.objects.get()
    assert (emergency.relative.email, emergency.citizen.email) == ("ole@example.dk", "karen@example.dk")
    assert emergency.status == EmergencyStatus.AWAITING_FIRST
    for email in SERVICE_DESK:
        assert User.objects.get(email=email).has_perm("attorney.approve_emergencyrequest")


@pytest.mark.django_db
def test_seed_demo_citizens_are_verified_and_the_municipality_runs_the_identity_desk():
    call_command("seed_demo")
    citizens = User.objects.filter(is_staff=False)
    assert citizens.exists()
    assert all(person.is_identity_verified for person in citizens)
    assert User.objects.get(email="sagsbehandler.kk@example.dk").has_perm("portal.verify_identity")
    assert not User.objects.get(email="sagsbehandler.skat@example.dk").has_perm("portal.verify_identity")


@pytest.mark.django_db
def test_seed_demo_loads_the_sample_register_extract_through_the_import():
    call_command("seed_demo")
    call_command("seed_demo")
    peter = User.objects.get(national_id="1503752345")
    emma = User.objects.get(national_id="1406124321")
    bent = User.objects.get(national_id="0507484321")
    lone = User.objects.get(national_id="2209791678")
    kommune_mail = Right.objects.get(code="kobenhavns-kommune.read_mail")
    skat_mail = Right.objects.get(code="skat.read_mail")
    assert authorize(actor=peter, principal=emma, right=kommune_mail).basis == "parental_custody"
    assert authorize(actor=lone, principal=bent, right=skat_mail).basis == "guardianship"
    assert not can_act_for(lone, bent, kommune_mail)
    assert Representation.objects.count() == 3
    assert RegisterImport.objects.latest("started_at").unchanged == 3


@pytest.mark.django_db
def test_seed_demo_lets_the_accountants_employee_act_for_karen_on_its_behalf():
    from attorney.policy import authorize_by_cpr
    from organisations.models import Membership, Organisation, Role
    from portal.demo import ORGANISATION

    call_command("seed_demo")
    call_command("seed_demo")
    organisation = Organisation.objects.get(cvr=ORGANISATION[0])
    karen = User.objects.get(national_id="0102451234")
    anne = User.objects.get(email="anne.revisor@example.dk")
    bo = User.objects.get(email="bo.bogholder@example.dk")
    roles = dict(Membership.objects.current().filter(organisation=organisation).values_list("user", "role"))
    assert roles == {anne.pk: Role.ADMINISTRATOR, bo.pk: Role.EMPLOYEE}
    mandate = PowerOfAttorney.objects.get(grantor=karen, organisation=organisation)
    assert mandate.status == Status.ACTIVE
    tax_mail = Right.objects.get(code="skat.read_mail")
    decision = authorize(actor=bo, principal=karen, right=tax_mail)
    assert (decision.permitted, decision.organisation_id) == (True, organisation.pk)
    assert authorize_by_cpr(
        actor_national_id=bo.national_id,
        principal_national_id=karen.national_id,
        right=tax_mail,
        organisation_cvr=organisation.cvr,
    ).permitted
    # Anne administers the firm; she has not given herself access to Karen's power of attorney.
    assert not can_act_for(anne, karen, tax_mail)
    assert not can_act_for(bo, karen, Right.objects.get(code="udbetaling-danmark.read_mail"))


@pytest.mark.django_db
def test_a_demo_run_stopped_before_bo_joined_is_completed_by_the_next(monkeypatch):
    from organisations import services as organisation_services

    real = organisation_services.join_organisation

    def stopped_at_bo(*, acting_user, code):
        if acting_user.email == "bo.bogholder@example.dk":
            raise RuntimeError("the run stopped here")
        return real(acting_user=acting_user, code=code)

    monkeypatch.setattr(organisation_services, "join_organisation", stopped_at_bo)
    with pytest.raises(RuntimeError):
        call_command("seed_demo")
    monkeypatch.undo()
    call_command("seed_demo")
    bo = User.objects.get(email="bo.bogholder@example.dk")
    karen = User.objects.get(national_id="0102451234")
    assert can_act_for(bo, karen, Right.objects.get(code="skat.read_mail"))


@pytest.mark.django_db
def test_seed_demo_leaves_hanss_application_for_inge_waiting_for_mette():
    from authorities.applications.models import Application, ApplicationStatus
    from authorities.applications.selectors import joint_choices

    call_command("seed_demo")
    call_command("seed_demo")
    [application] = Application.objects.filter(on_behalf_of__email="inge@example.dk")
    assert application.status == ApplicationStatus.ON_HOLD
    assert application.submitted_by.email == "hans@example.dk"
    mette = User.objects.get(email="mette@example.dk")
    hans = User.objects.get(email="hans@example.dk")
    assert joint_choices(actor=mette, application=application) == {"may_approve": True, "may_stop": True}
    assert joint_choices(actor=hans, application=application) == {"may_approve": False, "may_stop": True}
