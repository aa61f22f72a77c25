"""A citizen's consents and the uses of their data, as JSON and CSV to keep or take elsewhere."""

import csv
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from authorities.consent.models import Consent

from .models import DataUse

CONSENT_COLUMNS = [
    "id",
    "authority",
    "category",
    "category_name",
    "purpose",
    "status",
    "given_by",
    "valid_from",
    "valid_until",
    "ended_at",
]
DATA_USE_COLUMNS = [
    "id",
    "authority",
    "category",
    "category_name",
    "purpose",
    "used_at",
    "basis",
    "consent",
    "legal_basis",
    "case_reference",
    "reported_at",
]


def consent_row(consent: Consent) -> dict:
    return {
        "id": str(consent.pk),
        "authority": consent.authority.name,
        "category": consent.category.code,
        "category_name": consent.category.name,
        "purpose": consent.request.purpose,
        "status": consent.status,
        "given_by": consent.given_by.name,
        "valid_from": consent.valid_from.isoformat(),
        "valid_until": consent.valid_until.isoformat(),
        "ended_at": consent.ended_at.isoformat() if consent.ended_at else None,
    }


def data_use_row(use: DataUse) -> dict:
    return {
        "id": str(use.pk),
        "authority": use.authority.name,
        "category": use.category.code,
        "category_name": use.category.name,
        "purpose": use.purpose,
        "used_at": use.used_at.isoformat(),
        "basis": use.basis,
        "consent": str(use.consent_id) if use.consent_id else None,
        "legal_basis": use.legal_basis or None,
        "case_reference": use.case_reference,
        "reported_at": use.reported_at.isoformat(),
    }


def json_chunks(consents: Iterable[Consent], uses: Iterable[DataUse]) -> Iterator[str]:
    """One JSON document, written row by row so a long history never sits in memory at once."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield '{"consents": ['
    for index, consent in enumerate(consents):
        yield ("," if index else "") + encoder.encode(consent_row(consent))
    yield '], "data_uses": ['
    for index, use in enumerate(uses):
        yield ("," if index else "") + encoder.encode(data_use_row(use))
    yield "]}\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(columns: list[str], rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.DictWriter(_Echo(), fieldnames=columns)
    yield "\ufeff"  # a spreadsheet opens the file as UTF-8 (æ, ø, å) only with the byte-order mark
    yield writer.writeheader()
    for row in rows:
        yield writer.writerow({key: _cell(value) for key, value in row.items()})


def _cell(value):
    # A cell a spreadsheet would run as a formula is written as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
