"""Authorities report each use of a citizen's data; the portal keeps the ones something allowed.

A use counts only if, at the moment it happened, a consent from the citizen to that authority for
that category was in force, or the catalogue names a legal basis for the category. Anything else
is refused with a reason, counted per API client, and told to the authority's systems.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.clients.models import ApiClient
from authorities.consent.models import Consent, ConsentStatus, DataCategory
from authorities.events.services import record_authority_event
from portal.audit import record_events
from portal.errors import Invalid
from portal.models import User

from .models import DataUse, DataUseBasis, RefusalReason, RefusedDataUse

MAX_BATCH = 100
# Clocks differ a little between an authority's system and ours; a use further ahead is an error.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class Report:
    """One use as the authority reports it."""

    external_id: str
    citizen_national_id: str
    category: DataCategory
    purpose: str
    used_at: datetime.datetime
    case_reference: str = ""


class Status:
    ACCEPTED = "accepted"
    ALREADY_REPORTED = "already_reported"
    REFUSED = "refused"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Outcome:
    external_id: str
    status: str
    data_use: DataUse | None = None
    reason: str | None = None


def report_data_uses(*, client: ApiClient, reports: Sequence[Report]) -> list[Outcome]:
    """Record up to MAX_BATCH uses reported by an authority's system, each on its own merits.

    The rule: a use is accepted when the category needs no consent (the catalogue names its legal
    basis), or when a consent of the citizen to this authority for this category was in force at
    the moment of use – from its start up to, not including, its end or withdrawal. Otherwise it
    is refused with a reason; each refused report is counted once and the authority hears of it.
    Reporting the same own id again changes nothing: the same content answers "already reported",
    different content "conflict". Outcomes come back in the order of the reports.
    """
    _check(reports)
    try:
        with transaction.atomic(durable=True):
            return _report(client, reports)
    except IntegrityError:
        # Another call stored one of these ids between our look-up and our insert: look again.
        with transaction.atomic(durable=True):
            return _report(client, reports)


def _check(reports: Sequence[Report]) -> None:
    if not reports or len(reports) > MAX_BATCH:
        raise Invalid(_("Report between 1 and %(max)d uses at a time.") % {"max": MAX_BATCH})
    ids = [report.external_id for report in reports]
    if len(set(ids)) != len(ids):
        raise Invalid(_("Each use needs its own id."))
    latest = timezone.now() + CLOCK_SKEW
    if any(report.used_at > latest for report in reports):
        raise Invalid(_("A use cannot be reported before it has happened."))


def _same(use: DataUse, report: Report) -> bool:
    return (use.citizen_national_id, use.category_id, use.purpose, use.used_at, use.case_reference) == (
        report.citizen_national_id,
        report.category.pk,
        report.purpose,
        report.used_at,
        report.case_reference,
    )


def explain_refusal(consents: Sequence[Consent], moment: datetime.datetime) -> tuple[Consent | None, str]:
    """Why none of these consents (one citizen's, to one authority, for one category) allowed a use
    at the moment, and the consent the reason is about."""
    started = [consent for consent in consents if consent.valid_from <= moment]
    if started:
        latest = max(started, key=lambda consent: consent.valid_from)
        withdrawn_first = (
            latest.status == ConsentStatus.WITHDRAWN
            and latest.ended_at <= moment
            and latest.ended_at < latest.valid_until
        )
        return latest, RefusalReason.CONSENT_WITHDRAWN if withdrawn_first else RefusalReason.CONSENT_EXPIRED
    if consents:
        return min(consents, key=lambda consent: consent.valid_from), RefusalReason.CONSENT_NOT_YET_VALID
    return None, RefusalReason.NO_CONSENT


def _report(client: ApiClient, reports: Sequence[Report]) -> list[Outcome]:
    authority_id = client.authority_id
    ids = [report.external_id for report in reports]
    stored = {
        use.external_id: use
        for use in DataUse.objects.filter(authority_id=authority_id, external_id__in=ids).select_related(
            "category", "consent"
        )
    }
    new = [report for report in reports if report.external_id not in stored]
    people = {
        person.national_id: person
        for person in User.objects.with_verified_cprs({report.citizen_national_id for report in new})
    }
    consents = defaultdict(list)
    for consent in Consent.objects.filter(
        authority_id=authority_id,
        citizen__in=list(people.values()),
        category__in={report.category.pk for report in new if report.category.needs_consent},
    ).select_related("citizen"):
        consents[(consent.citizen.national_id, consent.category_id)].append(consent)

    outcomes, accepted, refused = {}, [], []
    for report in reports:
        if report.external_id in stored:
            use = stored[report.external_id]
            status = Status.ALREADY_REPORTED if _same(use, report) else Status.CONFLICT
            outcomes[report.external_id] = Outcome(
                report.external_id,
                status,
                data_use=use,
                reason="id_reused" if status == Status.CONFLICT else None,
            )
            continue
        use = DataUse(
            authority_id=authority_id,
            client=client,
            external_id=report.external_id,
            citizen_national_id=report.citizen_national_id,
            category=report.category,
            purpose=report.purpose,
            used_at=report.used_at,
            case_reference=report.case_reference,
        )
        if not report.category.needs_consent:
            use.basis = DataUseBasis.LEGAL_BASIS
            use.legal_basis_da, use.legal_basis_en = (
                report.category.legal_basis_da,
                report.category.legal_basis_en,
            )
        else:
            candidates = consents[(report.citizen_national_id, report.category.pk)]
            covering = [consent for consent in candidates if consent.is_in_force_at(report.used_at)]
            if not covering:
                consent, reason = explain_refusal(candidates, report.used_at)
                refused.append((report, consent, reason))
                outcomes[report.external_id] = Outcome(report.external_id, Status.REFUSED, reason=reason)
                continue
            use.basis, use.consent = DataUseBasis.CONSENT, max(covering, key=lambda c: c.valid_until)
        accepted.append(use)
        outcomes[report.external_id] = Outcome(report.external_id, Status.ACCEPTED, data_use=use)

    DataUse.objects.bulk_create(accepted)
    # One statement for all the batch's audit events, however many uses it reports.
    record_events(
        [
            {
                "action": "data_use.reported",
                "actor": None,
                "principal": people.get(use.citizen_national_id),
                "authority": client.authority,
                "target": use,
                "details": {
                    "client": str(client.pk),
                    "id": use.external_id,
                    "category": use.category.code,
                    "used_at": use.used_at.isoformat(),
                    "basis": use.basis,
                    "consent": str(use.consent_id) if use.consent_id else None,
                },
            }
            for use in accepted
        ]
    )
    _count_refusals(client, refused)
    return [outcomes[report.external_id] for report in reports]


def _count_refusals(client: ApiClient, refused: list[tuple[Report, Consent | None, str]]) -> None:
    """Keep each refused report once, and tell the authority's systems of the first time."""
    if not refused:
        return
    known = set(
        RefusedDataUse.objects.filter(
            authority_id=client.authority_id, external_id__in=[report.external_id for report, _, _ in refused]
        ).values_list("external_id", flat=True)
    )
    first_time = [item for item in refused if item[0].external_id not in known]
    RefusedDataUse.objects.bulk_create(
        [
            RefusedDataUse(
                authority_id=client.authority_id,
                client=client,
                external_id=report.external_id,
                category=report.category,
                used_at=report.used_at,
                reason=reason,
                consent=consent,
            )
            for report, consent, reason in first_time
        ],
        ignore_conflicts=True,
    )
    for report, consent, reason in first_time:
        record_authority_event(
            authority_id=client.authority_id,
            type="data_use.refused",
            payload={
                "id": report.external_id,
                "client": str(client.pk),
                "citizen": report.citizen_national_id,
                "category": report.category.code,
                "at": report.used_at.isoformat(),
                "reason": reason,
                "consent": str(consent.pk) if consent else None,
            },
        )
