"""The expiry job ends organisations' powers of attorney like persons': every member's rows go, the
grantor and the organisation's administrators are told, and the job reads each mandate once."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attorney import services as attorney_services
from attorney.models import PowerOfAttorney, Status
from authorities.models import CitizenFileUserObjectPermission

from ..conftest import grant
from ..factories import UserFactory
from .conftest import grant_to_organisation

pytestmark = pytest.mark.django_db


def test_an_organisations_mandate_expires_for_every_member(
    karen, revisorhuset, anne, bo, bo_member, read_mail, time_machine, run_on_commit
):
    mandate = attorney_services.accept(
        power_of_attorney=grant_to_organisation(karen, [read_mail], days=1), acting_user=anne
    )
    attorney_services.give_organisation_access(acting_user=anne, membership=bo_member)
    assert CitizenFileUserObjectPermission.all_rows.filter(user=bo).exists()
    mail.outbox.clear()
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    with run_on_commit():
        assert attorney_services.expire_due() == 1
    assert PowerOfAttorney.objects.get(pk=mandate.pk).status == Status.EXPIRED
    assert not CitizenFileUserObjectPermission.all_rows.exists()
    assert sorted(message.to[0] for message in mail.outbox) == sorted([karen.email, anne.email])


def expiry_queries(karen, read_mail, count: int) -> int:
    for _ in range(count):
        attorney = UserFactory()
        attorney_services.accept(
            power_of_attorney=grant(karen, attorney, [read_mail], days=1), acting_user=attorney
        )
    with CaptureQueriesContext(connection) as queries:
        assert attorney_services.expire_due(now=timezone.now() + datetime.timedelta(days=2)) == count
    return len(queries)


def test_the_expiry_job_reads_each_mandate_once_however_many_expire(karen, read_mail):
    # The audit events name an organisation when there is one: read with the batch, not one by one.
    assert expiry_queries(karen, read_mail, 2) == expiry_queries(karen, read_mail, 6)


def test_authorities_hear_which_organisation_a_power_of_attorney_named(client_mandate, karen):
    from attorney import services as attorney_services
    from authorities.models import AuthorityEvent

    attorney_services.revoke(power_of_attorney=client_mandate, acting_user=karen)
    revoked = AuthorityEvent.objects.get(type="power_of_attorney.revoked")
    assert (revoked.payload["attorney"], revoked.payload["organisation"]) == (None, "12345674")
