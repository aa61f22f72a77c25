import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from attorney import services as attorney_services
from organisations import services
from organisations.models import Role

from ..factories import UserFactory

REVISOR_CVR = "12345674"
REVISOR_NAME = "Revisorhuset A/S"


@pytest.fixture
def registrar(db):
    """A caseworker who may register organisations."""
    person = UserFactory(name="Lise Kommune", is_staff=True)
    person.user_permissions.add(Permission.objects.get(codename="add_organisation"))
    return person


@pytest.fixture
def anne(db):
    return UserFactory(name="Anne Revisor", national_id="1208804567", email="anne@revisorhuset.dk")


@pytest.fixture
def bo(db):
    return UserFactory(name="Bo Bogholder", national_id="0309905678", email="bo@revisorhuset.dk")


@pytest.fixture
def revisorhuset(registrar, anne):
    """Revisorhuset A/S, with Anne as its administrator (she has joined)."""
    organisation, code = services.register_organisation(
        acting_user=registrar,
        cvr=REVISOR_CVR,
        name=REVISOR_NAME,
        administrator_national_id=anne.national_id,
        administrator_name=anne.name,
        administrator_email=anne.email,
    )
    services.join_organisation(acting_user=anne, code=code)
    return organisation


@pytest.fixture
def bo_member(revisorhuset, anne, bo):
    """Bo has joined Revisorhuset as an employee, with no access yet."""
    _membership, code = services.invite_member(
        acting_user=anne, organisation=revisorhuset, name=bo.name, email=bo.email, role=Role.EMPLOYEE
    )
    return services.join_organisation(acting_user=bo, code=code)


def grant_to_organisation(grantor, rights, *, days=365):
    now = timezone.now()
    return attorney_services.grant_power_of_attorney_to_organisation(
        acting_user=grantor,
        cvr=REVISOR_CVR,
        organisation_name=REVISOR_NAME,
        rights=rights,
        valid_from=now,
        valid_until=now + datetime.timedelta(days=days),
    )


@pytest.fixture
def client_mandate(karen, revisorhuset, anne, read_mail, tax_statement):
    """Karen's power of attorney to Revisorhuset, accepted by Anne."""
    mandate = grant_to_organisation(karen, [read_mail, tax_statement])
    return attorney_services.accept(power_of_attorney=mandate, acting_user=anne)


OTHER_CVR = "31415926"
OTHER_NAME = "Advokathuset ApS"


@pytest.fixture
def dorte(db):
    """Dorte administers another organisation, Advokathuset."""
    return UserFactory(name="Dorte Advokat", national_id="0507714321", email="dorte@advokathuset.dk")


@pytest.fixture
def advokathuset(registrar, dorte):
    organisation, code = services.register_organisation(
        acting_user=registrar,
        cvr=OTHER_CVR,
        name=OTHER_NAME,
        administrator_national_id=dorte.national_id,
        administrator_name=dorte.name,
        administrator_email=dorte.email,
    )
    services.join_organisation(acting_user=dorte, code=code)
    return organisation


@pytest.fixture
def anne_member(revisorhuset, anne):
    return revisorhuset.memberships.get(user=anne)


@pytest.fixture
def pending_mandate(karen, revisorhuset, read_mail):
    """Karen's power of attorney to Revisorhuset, waiting for an administrator's answer."""
    return grant_to_organisation(karen, [read_mail])


@pytest.fixture
def bo_has_access(client_mandate, bo_member, anne):
    """Bo may use Karen's power of attorney to Revisorhuset."""
    return attorney_services.give_organisation_access(
        acting_user=anne, membership=bo_member, power_of_attorney=client_mandate
    )
