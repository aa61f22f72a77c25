"""Two requests about the same power of attorney at the same moment, on real PostgreSQL.

Each request runs in its own thread with its own database connection and its own transaction, as
two gunicorn workers would. A barrier releases them together; the services' row locks
(SELECT ... FOR UPDATE) must serialise them so that the result is one consistent state and the
loser gets a clean ValidationError, never an IntegrityError or a half-done change.
"""

import collections
import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from attorney import services
from attorney.models import PowerOfAttorney, Status
from authorities.models import CitizenFileUserObjectPermission
from portal.models import OutboundEmail

from ..conftest import grant

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="Row locks (SELECT ... FOR UPDATE) are only real on PostgreSQL; set DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]

REPEAT = 10
TIMEOUT = 30


def race(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in separate threads released together; ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, object] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            outcomes[index] = ("ok", call())
        except BaseException as error:  # noqa: BLE001 - every outcome is reported to the test
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request hung (deadlock?)"
    assert all(outcome is not None for outcome in outcomes)
    return outcomes


def permission_rows(mandate: PowerOfAttorney) -> int:
    return CitizenFileUserObjectPermission.all_rows.filter(power_of_attorney=mandate).count()


def assert_only_validation_errors(outcomes) -> None:
    for kind, value in outcomes:
        if kind == "error":
            assert isinstance(value, ValidationError), f"unexpected {type(value).__name__}: {value!r}"


def test_accept_and_revoke_at_the_same_moment_end_in_one_consistent_state(karen, peter, read_mail):
    orders = collections.Counter()
    for _ in range(REPEAT):
        mandate = grant(karen, peter, [read_mail])
        accepted, revoked = race(
            lambda m=mandate: services.accept(power_of_attorney=m, acting_user=peter),
            lambda m=mandate: services.revoke(
                power_of_attorney=m, acting_user=karen, reason="changed my mind"
            ),
        )
        assert_only_validation_errors([accepted, revoked])
        mandate.refresh_from_db()
        rows = permission_rows(mandate)
        # Permission rows exist if and only if the mandate is in force.
        assert (rows > 0) == (mandate.status == Status.ACTIVE), (mandate.status, rows)
        if revoked[0] == "ok":
            # Revoke always wins in the end: either after the accept (active -> revoked, rows
            # removed) or before it (pending -> revoked, and the accept is refused).
            assert mandate.status == Status.REVOKED
            assert rows == 0
            assert mandate.ended_at is not None and mandate.ended_by_id == karen.pk
            if accepted[0] == "ok":
                assert mandate.activated_at is not None
                orders["accept, then revoke"] += 1
            else:
                assert accepted[1].code == "transition"
                assert mandate.activated_at is None
                orders["revoke, then accept refused"] += 1
        else:
            # The only clean failure of a revoke: the accept won and the revoke was refused.
            assert mandate.status == Status.ACTIVE and rows == 1
            orders["revoke refused"] += 1
    print(f"\naccept vs revoke over {REPEAT} races: {dict(orders)}")
    assert sum(orders.values()) == REPEAT


def test_two_identical_grants_at_once_create_exactly_one(karen, peter, read_mail, tax_statement):
    for round_ in range(REPEAT):
        before = PowerOfAttorney.objects.filter(grantor=karen).count()
        outcomes = race(
            lambda: grant(karen, peter, [read_mail, tax_statement]),
            lambda: grant(karen, peter, [read_mail, tax_statement]),
        )
        assert_only_validation_errors(outcomes)
        assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
        assert PowerOfAttorney.objects.filter(grantor=karen).count() == before + 1
        created = next(value for kind, value in outcomes if kind == "ok")
        refused = next(value for kind, value in outcomes if kind == "error")
        assert "præcis disse rettigheder" in " ".join(refused.messages)  # Danish, the default
        # Exactly one "granted" email per party for the one mandate that exists.
        assert (
            OutboundEmail.objects.filter(idempotency_key__startswith=f"poa:{created.pk}:granted").count() == 2
        )
        # Clear the way for the next round: the grantor withdraws the pending one.
        services.revoke(power_of_attorney=created, acting_user=karen)
        assert round_ + 1 == PowerOfAttorney.objects.filter(grantor=karen, status=Status.REVOKED).count()


def test_two_accepts_of_the_same_pending_mandate_grant_permissions_once(
    karen, peter, read_mail, tax_statement
):
    for _ in range(REPEAT):
        mandate = grant(karen, peter, [read_mail, tax_statement])
        outcomes = race(
            lambda m=mandate: services.accept(power_of_attorney=m, acting_user=peter),
            lambda m=mandate: services.accept(power_of_attorney=m, acting_user=peter),
        )
        assert_only_validation_errors(outcomes)
        assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
        refused = next(value for kind, value in outcomes if kind == "error")
        assert refused.code == "transition"
        mandate.refresh_from_db()
        assert mandate.status == Status.ACTIVE
        # One row per right, not two.
        assert permission_rows(mandate) == 2
        assert (
            OutboundEmail.objects.filter(idempotency_key__startswith=f"poa:{mandate.pk}:accepted").count()
            == 2
        )
        services.revoke(power_of_attorney=mandate, acting_user=karen)
        assert permission_rows(mandate) == 0
