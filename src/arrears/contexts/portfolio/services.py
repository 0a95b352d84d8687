"""Writes to the portfolio: loading a validated extract.

:func:`load_extract` takes an :class:`~arrears.contexts.portfolio.intake.extract.Extract` (already
validated row by row) and loads it atomically: either every row is in, or nothing is. Rows are
matched on their natural keys (customer id, account id, contact id, statement date, payment id);
new rows are inserted, changed rows updated, identical rows left alone — so re-importing the same
extract changes nothing, and a newer extract updates balances. An extract older than what is
loaded is refused. Other contexts' parts of the extract (the payments: the money context) are
loaded in the same transaction by the loaders they register (:func:`register_extract_section`).

Also the daily run's writes to the accounts and its run record, and the erasure of a customer's
personal data (retention), for :mod:`arrears.pipeline` through the facade.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from arrears.core import dbio
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.upsert import upsert_rows

from .facade import ERASED_NAME
from .intake.extract import Extract
from .models import BucketHistory, CardAccount, Contact, Customer, DailyRun, ImportBatch, Statement

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


#: Other contexts' parts of an extract (payments: the money context), loaded in the same transaction
#: after the portfolio's rows: name → ``loader(extract, account_ids) -> (inserted, updated, unchanged)``.
EXTRACT_SECTIONS: dict[str, Callable[[Extract, dict[str, int]], tuple[int, int, int]]] = {}


def register_extract_section(name: str, loader: Callable[[Extract, dict[str, int]], tuple[int, int, int]]) -> None:
    """Register a context's loader of its part of the extract (``AppConfig.ready``); see
    :func:`arrears.contexts.portfolio.facade.register_extract_section`."""
    EXTRACT_SECTIONS[name] = loader


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

        record("customers", upsert_rows(
            Customer, ("external_id",),
            ("name", "national_id", "birth_date", "sex", "timezone", "language", "district"),
            ({"external_id": r["customer_id"], **{k: r[k] for k in
              ("name", "national_id", "birth_date", "sex", "timezone", "language", "district")}}
             for r in _rows(extract.customers)),
            {"created_at": now},
        ))
        customer_ids = dict(Customer.objects.values_list("external_id", "id").iterator(chunk_size=20_000))

        record("contacts", upsert_rows(
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
        record("accounts", upsert_rows(
            CardAccount, ("external_id",), account_fields,
            ({**r, "external_id": r["account_id"], "customer_id": customer_ids[r["customer_id"]],
              "as_of_extract": extract.as_of, "extract_overdue_amount": r["overdue_amount"],
              "extract_oldest_unpaid_due_date": r["oldest_unpaid_due_date"]} for r in _rows(extract.accounts)),
            {"dpd": 0, "bucket": "M0", "last_run_as_of": None},
        ))
        account_ids = dict(CardAccount.objects.values_list("external_id", "id").iterator(chunk_size=20_000))

        record("statements", upsert_rows(
            Statement, ("account_id", "statement_date"),
            ("due_date", "closing_balance", "minimum_due", "delinquency_status"),
            ({**r, "account_id": account_ids[r["account_id"]]} for r in _rows(extract.statements)),
        ))

        for name, loader in EXTRACT_SECTIONS.items():  # the payments (money context) …
            record(name, loader(extract, account_ids))
        ImportBatch.objects.create(
            format=fmt, as_of=extract.as_of, checksum=extract.checksum, files=list(extract.source_files),
            counts={"inserted": result.inserted, "updated": result.updated},
        )
    result.seconds = round(time.perf_counter() - t0, 2)
    log.info("imported %s extract as of %s: %s", fmt, extract.as_of, result)
    return result


def newest_extract_date() -> date | None:
    return CardAccount.objects.aggregate(m=models.Max("as_of_extract"))["m"]


# ---------------------------------------------------------------------------------------------
# the daily run's writes (arrears.pipeline.daily)
# ---------------------------------------------------------------------------------------------


def write_delinquency(accounts: Iterable[Sequence], history: Iterable[Sequence], superseded: list[int],
                      as_of: date) -> int:
    """See :func:`arrears.contexts.portfolio.facade.write_delinquency`."""
    day = dbio.db_value(as_of)  # on every row: adapted once
    n = dbio.bulk_update(
        CardAccount._meta.db_table,
        "id",
        ("dpd", "bucket", "overdue_amount", "oldest_unpaid_due_date", "last_run_as_of"),
        ((a, d, b, o, u, day) for a, d, b, o, u in accounts),
    )
    for i in range(0, len(superseded), 5_000):
        BucketHistory.objects.filter(as_of=as_of, account_id__in=superseded[i:i + 5_000],
                                     cause=BucketHistory.Cause.DAILY_RUN).delete()
    dbio.bulk_insert(
        BucketHistory._meta.db_table,
        ("account_id", "as_of", "dpd", "bucket", "previous_bucket", "roll"),
        ((a, day, d, b, p, r) for a, d, b, p, r in history),
    )
    return n


def record_daily_run(as_of: date, *, started_at: datetime, finished_at: datetime, accounts: int,
                     buckets: dict[str, int], cases_open: int, cases_opened: int, cases_closed: int,
                     seconds: float, ladder_version: str, changed: bool) -> bool:
    """See :func:`arrears.contexts.portfolio.facade.record_daily_run`."""
    run, created = DailyRun.objects.get_or_create(
        as_of=as_of,
        defaults=dict(
            started_at=started_at, finished_at=finished_at, accounts=accounts, buckets=buckets,
            cases_open=cases_open, cases_opened=cases_opened, cases_closed=cases_closed, seconds=seconds,
            ladder_version=ladder_version,
        ),
    )
    if not created and changed:
        # same date again after new input (e.g. a corrected extract): keep the record true
        DailyRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), accounts=accounts, buckets=buckets, cases_open=cases_open,
            cases_opened=run.cases_opened + cases_opened, cases_closed=run.cases_closed + cases_closed,
            executions=run.executions + 1,
        )
    return created


# ---------------------------------------------------------------------------------------------
# retention: erasing a customer's personal data (arrears.pipeline.retention)
# ---------------------------------------------------------------------------------------------

#: Personal fields erased, per model (value written through the ORM).
CUSTOMER_ERASE = {"name": ERASED_NAME, "national_id": "", "birth_date": None}
CONTACT_ERASE = {"value": "", "party_name": "", "latitude": None, "longitude": None}


def erase_customer_personal_data(customer_id: int, now: datetime) -> tuple[list[str], list[str], int]:
    """See :func:`arrears.contexts.portfolio.facade.erase_customer_personal_data`: the registered
    erasers of other contexts run first (with the customer), then the customer's personal fields
    and their contacts' are overwritten through ``save()`` (so field encryption and lookup hashes
    are rewritten consistently)."""
    from arrears.contexts.audit.facade import run_retention_erasers

    customer = Customer.objects.get(pk=customer_id)
    run_retention_erasers(customer)
    for name, value in CUSTOMER_ERASE.items():
        setattr(customer, name, value)
    customer.purged_at = now
    customer.save()
    n = 0
    for contact in customer.contacts.all():
        for name, value in CONTACT_ERASE.items():
            setattr(contact, name, value)
        contact.save()
        n += 1
    return sorted(CUSTOMER_ERASE), sorted(CONTACT_ERASE), n
