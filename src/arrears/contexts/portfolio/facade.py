"""The portfolio context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


@dataclass(frozen=True)
class ContactRecord:
    """One way to reach a party of a customer, **unmasked** (mask before showing:
    :func:`mask_contact_value`). ``kind``: mobile, home_phone, work_phone, email, home_address,
    work_address; ``party``: debtor, guarantor, emergency, other; labels in the active language."""

    id: int
    customer_id: int
    kind: str
    kind_label: str
    party: str
    party_label: str
    party_name: str
    relation: str
    value: str
    district: str


@dataclass(frozen=True)
class AccountRecord:
    """A card account's figures (Decimal, major units of ``currency``; dates local)."""

    id: int
    external_id: str
    product_code: str
    currency: str
    credit_limit: Decimal
    balance: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    overdue_amount: Decimal
    minimum_due: Decimal
    dpd: int
    bucket: str
    oldest_unpaid_due_date: date | None
    due_day: int
    as_of_extract: date
    last_run_as_of: date | None


@dataclass(frozen=True)
class StatementRecord:
    account_id: int
    statement_date: date
    due_date: date
    closing_balance: Decimal
    minimum_due: Decimal
    #: months of delay the card system recorded (-2 no consumption, -1 paid in full, 0 revolving, 1..8)
    delinquency_status: int | None


@dataclass(frozen=True)
class BucketMoveRecord:
    """One move of an account's bucket (``roll``: new, forward, back, cure; its label translated)."""

    account_id: int
    as_of: date
    dpd: int
    bucket: str
    previous_bucket: str
    roll: str
    roll_label: str


#: the order contacts are shown in: parties, then kinds (phones before e-mail and addresses)
CONTACT_PARTY_ORDER = ("debtor", "guarantor", "emergency", "other")
CONTACT_KIND_ORDER = ("mobile", "home_phone", "work_phone", "email", "home_address", "work_address")


def mask_contact_value(kind: str, value: str) -> str:
    """A contact value masked by its kind: a phone ``138****5678``, an e-mail, an address (its
    district only); an unknown kind as little as a name."""
    from .selectors import mask_contact_value as mask

    return mask(kind, value)


def customer_ids_matching(term: str, *, limit: int = 100) -> set[int]:
    """Customers a search term names exactly: their customer number or a card account number, a
    phone number of any party or a 身份证号 (through the keyed hashes; at most ``limit`` each).
    No data scope: intersect with the caller's."""
    from .selectors import customer_ids_matching as match

    return match(term, limit=limit)


def customer_contacts(customer_id: int) -> list[ContactRecord]:
    """The customer's contacts (unmasked), in storage order; one query."""
    from .selectors import customer_contacts as contacts

    return contacts(customer_id)


def customer_contact(customer_id: int, contact_id: int) -> ContactRecord | None:
    """One contact of the customer (unmasked), ``None`` when the customer has no such contact."""
    from .selectors import customer_contacts as contacts

    return next(iter(contacts(customer_id, contact_id=contact_id)), None)


def customer_accounts(customer_id: int) -> list[AccountRecord]:
    """The customer's card accounts, worst DPD first (then id); one query."""
    from .selectors import customer_accounts as accounts

    return accounts(customer_id)


def latest_statements(account_ids: list[int], per_account: int) -> dict[int, list[StatementRecord]]:
    """The latest ``per_account`` statements of each account, newest first; one query."""
    from .selectors import latest_statements as latest

    return latest(account_ids, per_account)


def latest_bucket_moves(account_ids: list[int], per_account: int) -> dict[int, list[BucketMoveRecord]]:
    """The latest ``per_account`` bucket moves of each account, newest first; one query."""
    from .selectors import latest_bucket_moves as latest

    return latest(account_ids, per_account)


# -- the retention purge and subject access (arrears.pipeline.retention / .subject)


def find_customer(key: str, *, by_pk: bool = False) -> tuple[int, str] | None:
    """``(id, customer number)`` of the customer with customer number ``key`` (or database id,
    ``by_pk``); ``None`` when there is none (or ``key`` is no number with ``by_pk``)."""
    from .models import Customer

    try:
        qs = Customer.objects.filter(pk=int(key)) if by_pk else Customer.objects.filter(external_id=key)
    except ValueError:
        return None
    return qs.values_list("pk", "external_id").first()


def lock_customer(customer_id: int) -> bool:
    """Lock the customer's row for the caller's transaction (``SELECT … FOR UPDATE``); ``False``
    when there is no such customer."""
    from .models import Customer

    return Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk", flat=True).first() is not None


#: a customer as the audit log names it (``object_type``; ``object_id`` is the customer's id)
CUSTOMER_OBJECT_TYPE = "portfolio.customer"

#: what a purged customer's name becomes (the field is required); every other personal field is emptied
ERASED_NAME = "（已清除）"


def erase_customer_personal_data(customer_id: int, now: datetime) -> tuple[list[str], list[str], int]:
    """Erase a customer's personal data (retention): the registered erasers of other contexts
    first (:func:`arrears.contexts.audit.retention.register_eraser`), then the customer's personal
    fields and their contacts' (through the model, so encryption and lookup hashes stay
    consistent); the customer is marked ``purged_at = now``. Call inside a transaction holding
    :func:`lock_customer`. Returns ``(customer fields erased, contact fields erased, contacts)``."""
    from .services import erase_customer_personal_data as erase

    return erase(customer_id, now)


def subject_records(customer_id: int) -> dict:
    """The portfolio's records about a customer for subject access, each a JSON-ready dict
    (:func:`arrears.core.privacy.export.row`): ``{"customer": {...}, "contacts": [...],
    "accounts": [...], "statements": [...], "bucket_history": [...]}`` plus ``"_labels"``:
    section → model label (``portfolio.contact`` …)."""
    from .selectors import subject_records as records

    return records(customer_id)


# -- the daily run (arrears.pipeline.daily)


def read_accounts(as_of: date):
    """Every card account with what the daily run's delinquency step needs, as an Arrow table of
    :data:`arrears.engines.daily.ACCOUNT_SCHEMA` (money as exact decimal text); see
    :func:`arrears.contexts.portfolio.selectors.read_accounts`."""
    from .selectors import read_accounts as read

    return read(as_of)


def read_statements():
    """The statements' minimums that can still be owed (``account_id, due_date, minimum_due``), an
    Arrow table of :data:`arrears.engines.daily.STATEMENT_SCHEMA`."""
    from .selectors import read_statements as read

    return read()


def write_delinquency(accounts, history, superseded: list[int], as_of: date) -> int:
    """The daily run's writes to the accounts: ``accounts`` rows ``(account_id, dpd, bucket,
    overdue_amount, oldest_unpaid_due_date)`` updated (bulk) with ``last_run_as_of = as_of``;
    the ``daily_run`` history rows of ``as_of`` of the ``superseded`` accounts deleted (a re-run
    whose bucket differs); ``history`` rows ``(account_id, dpd, bucket, previous_bucket, roll)``
    inserted for ``as_of``. Returns the accounts updated. Call inside the run's transaction."""
    from .services import write_delinquency as write

    return write(accounts, history, superseded, as_of)


def latest_run_date() -> date | None:
    """The business date of the latest daily run (``None``: never run)."""
    from .models import DailyRun

    return DailyRun.objects.order_by("-as_of").values_list("as_of", flat=True).first()


def record_daily_run(as_of: date, *, started_at: datetime, finished_at: datetime, accounts: int,
                     buckets: dict[str, int], cases_open: int, cases_opened: int, cases_closed: int,
                     seconds: float, ladder_version: str, changed: bool) -> bool:
    """Write the run record of ``as_of``; on a re-run of that date (``False`` returned) it is
    kept true when the run ``changed`` anything (counts added up, ``executions`` + 1)."""
    from .services import record_daily_run as write

    return write(as_of, started_at=started_at, finished_at=finished_at, accounts=accounts, buckets=buckets,
                 cases_open=cases_open, cases_opened=cases_opened, cases_closed=cases_closed, seconds=seconds,
                 ladder_version=ladder_version, changed=changed)


def register_extract_section(name: str, loader) -> None:
    """Let another context load its part of a card-system extract in the same transaction as the
    portfolio's rows (payments: the money context): ``loader(extract, account_ids)`` with the
    validated :class:`~arrears.contexts.portfolio.intake.extract.Extract` and ``{account number:
    account id}``, returning ``(inserted, updated, unchanged)``. Call from ``AppConfig.ready``."""
    from .services import register_extract_section as register

    register(name, loader)

