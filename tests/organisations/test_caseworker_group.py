"""Caseworkers register organisations: the caseworkers' group keeps that permission however it is
set up (by the migration, or again by ``ensure_caseworker_group`` when a caseworker is appointed)."""

import pytest

from authorities.catalogue import services as catalogue_services
from organisations import services

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_caseworkers_group_set_up_again_may_still_register_organisations():
    caseworker = UserFactory(name="Sofie Skov", national_id=None, is_staff=True)
    caseworker.groups.add(catalogue_services.ensure_caseworker_group())
    administrator = UserFactory()
    organisation, _code = services.register_organisation(
        acting_user=caseworker,
        cvr="12345674",
        name="Revisorhuset A/S",
        administrator_national_id=administrator.national_id,
        administrator_name=administrator.name,
        administrator_email=administrator.email,
    )
    assert organisation.cvr == "12345674"
