"""Writes to the portfolio: loading a validated extract.

:func:`load_extract` takes an :class:`~arrears.contexts.portfolio.intake.extract.Extract` (already
validated row by row) and loads it atomically: either every row is in, or nothing is. Rows are
matched on their natural keys (customer id, account id, contact id, statement date, payment id);
new rows are inserted, changed rows updated, identical rows left alone — so re-importing the same
extract changes nothing, and a newer extract updates balances. An extract older than what is
loaded is refused.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from arrears.core import dbio
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.privacy.fields import RowProtector

from .intake.extract import Extract
from .models import CardAccount, Contact, Customer, ImportBatch, Statement

log = logging.getLogger("arrears.portfolio")


class ImportRefused(ArrearsError, RuntimeError):
    """The extract is valid but cannot be loaded (e.g. older than the loaded data)."""

    code = ErrorCode.IMPORT_REFUSED


@dataclass
class ImportResult:
    format: str
    as_of: str
    already_imported: bool = False
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _rows(df) -> list[dict[str, Any]]:
    return df.to_dicts()


def _upsert(
    model: type[models.Model],
    key: tuple[str, ...],
    fields: tuple[str, ...],
    incoming: Iterable[dict[str, Any]],
    insert_defaults: dict[str, Any] | None = None,
) -> tuple[int, int, int]:
    """Insert new and update changed rows of ``model`` matched on ``key`` (model field names,
    ``*_id`` for foreign keys). Returns ``(inserted, updated, unchanged)``.

    Rows are compared in plaintext (existing encrypted values are decrypted on reading); what is
    written goes through a :class:`~arrears.core.privacy.fields.RowProtector`: encrypted fields are
    encrypted and their blind indexes appended."""
    protector = RowProtector(model, fields)
    existing = {
        tuple(r[:len(key)]): (r[len(key)], tuple(r[len(key) + 1:]))
        for r in model.objects.values_list(*key, "id", *fields).iterator(chunk_size=20_000)
    }
    new_rows, changed = [], []
    unchanged = 0
    for row in incoming:
        k = tuple(row[f] for f in key)
        values = tuple(row[f] for f in fields)
        found = existing.get(k)
        if found is None:
            new_rows.append(k + protector.protect(values))
        elif found[1] != values:
            changed.append((found[0], *protector.protect(values)))
        else:
            unchanged += 1
    defaults = insert_defaults or {}
    table = model._meta.db_table
    written = (*fields, *protector.extra_fields)
    columns = [model._meta.get_field(f).column for f in (*key, *written)]
    dbio.bulk_insert(table, [*columns, *defaults.keys()], (r + tuple(defaults.values()) for r in new_rows))
    dbio.bulk_update(table, "id", [model._meta.get_field(f).column for f in written], changed)
    return len(new_rows), len(changed), unchanged


def load_extract(extract: Extract, fmt: str, progress: Callable[[str], None] | None = None) -> ImportResult:
    """Load ``extract`` atomically; see the module docstring.

    Raises :class:`ImportRefused` when the extract's ``as_of`` is earlier than the data already
    loaded. Validation errors are raised earlier, by the readers (``ExtractError``).
    """
    import time

    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    result = ImportResult(format=fmt, as_of=extract.as_of.isoformat())
    now = timezone.now()
    with transaction.atomic():
        if ImportBatch.objects.filter(format=fmt, as_of=extract.as_of, checksum=extract.checksum).exists():
            result.already_imported = True
            return result
        newest = CardAccount.objects.aggregate(m=models.Max("as_of_extract"))["m"]
        if newest is not None and extract.as_of < newest:
            raise ImportRefused(f"extract as of {extract.as_of} is older than the loaded data (as of {newest})")

        def record(name: str, counts: tuple[int, int, int]) -> None:
            result.inserted[name], result.updated[name], result.unchanged[name] = counts
            say(f"{name}: {counts[0]:,} new, {counts[1]:,} updated, {counts[2]:,} unchanged")

        record("customers", _upsert(
            Customer, ("external_id",),
            ("name", "national_id", "birth_date", "sex", "timezone", "language", "district"),
            ({"external_id": r["customer_id"], **{k: r[k] for k in
              ("name", "national_id", "birth_date", "sex", "timezone", "language", "district")}}
             for r in _rows(extract.customers)),
            {"created_at": now},
        ))
        customer_ids = dict(Customer.objects.values_list("external_id", "id").iterator(chunk_size=20_000))

        record("contacts", _upsert(
            Contact, ("customer_id", "external_id"),
            ("kind", "party", "party_name", "relation", "value", "district", "latitude", "longitude"),
            ({"customer_id": customer_ids[r["customer_id"]], "external_id": r["contact_id"],
              **{k: r[k] for k in ("kind", "party", "party_name", "relation", "value", "district", "latitude",
                                   "longitude")}}
             for r in _rows(extract.contacts)),
        ))

        account_fields = ("customer_id", "product_code", "currency", "credit_limit", "balance", "principal",
                          "interest", "fees", "minimum_due", "overdue_amount", "oldest_unpaid_due_date", "due_day",
                          "opened_on", "as_of_extract", "extract_overdue_amount", "extract_oldest_unpaid_due_date")
        record("accounts", _upsert(
            CardAccount, ("external_id",), account_fields,
            ({**r, "external_id": r["account_id"], "customer_id": customer_ids[r["customer_id"]],
              "as_of_extract": extract.as_of, "extract_overdue_amount": r["overdue_amount"],
              "extract_oldest_unpaid_due_date": r["oldest_unpaid_due_date"]} for r in _rows(extract.accounts)),
            {"dpd": 0, "bucket": "M0", "last_run_as_of": None},
        ))
        account_ids = dict(CardAccount.objects.values_list("external_id", "id").iterator(chunk_size=20_000))

        record("statements", _upsert(
            Statement, ("account_id", "statement_date"),
            ("due_date", "closing_balance", "minimum_due", "delinquency_status"),
            ({**r, "account_id": account_ids[r["account_id"]]} for r in _rows(extract.statements)),
        ))

        from arrears.contexts.money.payments.models import Payment

        record("payments", _upsert(
            Payment, ("account_id", "external_id"),
            ("paid_at", "local_date", "amount", "channel"),
            ({**r, "account_id": account_ids[r["account_id"]], "external_id": r["payment_id"]}
             for r in _rows(extract.payments)),
        ))
        ImportBatch.objects.create(
            format=fmt, as_of=extract.as_of, checksum=extract.checksum, files=list(extract.source_files),
            counts={"inserted": result.inserted, "updated": result.updated},
        )
    result.seconds = round(time.perf_counter() - t0, 2)
    log.info("imported %s extract as of %s: %s", fmt, extract.as_of, result)
    return result


def newest_extract_date() -> date | None:
    return CardAccount.objects.aggregate(m=models.Max("as_of_extract"))["m"]
