"""The portfolio context owns the card portfolio — customers and their contact points (encrypted, blind-indexed), card accounts and statements, extract imports, bucket history and the daily-run records.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- used by the contact context
#
# The contact channels read the debtor's facts (time zone, language, district), the contact points
# of a customer and the figures of their accounts. Contact values are personal data: they leave
# decrypted (the channels dial and text them); mask them before showing. Model imports inside the
# functions: this module stays light.

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class CustomerFacts:
    """A customer: number, full name (personal data), IANA time zone, language (``zh-hans`` …)
    and district."""

    id: int
    external_id: str
    name: str
    timezone: str
    language: str
    district: str


def customer_facts(customer_id: int) -> CustomerFacts | None:
    """Customer ``customer_id`` (``None``: no such customer). One query."""
    from .models import Customer

    c = Customer.objects.filter(pk=customer_id).first()
    return CustomerFacts(c.pk, c.external_id, c.name, c.timezone, c.language, c.district) if c else None


@dataclass(frozen=True)
class CustomerPlace:
    """Where a customer lives: IANA time zone and district (no personal data)."""

    timezone: str
    district: str


def customer_places(customer_ids: Iterable[int]) -> dict[int, CustomerPlace]:
    """Customer id → time zone and district, read in chunks of 5,000 ids (set-based)."""
    from .models import Customer

    ids, out = list(customer_ids), {}
    for i in range(0, len(ids), 5000):
        out.update((pk, CustomerPlace(tz, district)) for pk, tz, district in
                   Customer.objects.filter(pk__in=ids[i:i + 5000]).values_list("pk", "timezone", "district"))
    return out


@dataclass(frozen=True)
class ContactPoint:
    """A way to reach a party of a customer: ``kind`` (``mobile``, ``home_phone``, ``work_phone``,
    ``email``, ``home_address``, ``work_address``), ``party`` (``debtor``, ``guarantor``,
    ``emergency``, ``other``), the party's relation to the debtor and the number or address
    (decrypted: personal data)."""

    id: int
    customer_id: int
    kind: str
    party: str
    relation: str
    value: str


def _point(c) -> ContactPoint:
    return ContactPoint(c.pk, c.customer_id, c.kind, c.party, c.relation, c.value)


def contact_points(customer_id: int, *, kinds: Iterable[str] | None = None,
                   party: str | None = None) -> list[ContactPoint]:
    """The customer's contact points by id, of ``kinds`` and ``party`` when given. One query."""
    from .models import Contact

    qs = Contact.objects.filter(customer_id=customer_id)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    if party is not None:
        qs = qs.filter(party=party)
    return [_point(c) for c in qs.order_by("id")]


def phone_contact_points(number: str) -> list[ContactPoint]:
    """The phone contact points (mobile, home, work; any party) whose number is ``number``, matched
    through the blind index and compared normalised (``+86 138-…`` is ``138…``), by customer."""
    from arrears.core.privacy.crypto import normalize_phone

    from .selectors import find_customers_by_phone

    wanted = normalize_phone(number)
    out = []
    for customer in find_customers_by_phone(number):
        out += [_point(c) for c in customer.contacts.filter(kind__in=["mobile", "home_phone", "work_phone"])
                if normalize_phone(c.value) == wanted]
    return out


def debtor_address_points(customer_ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """``(customer id, kind, contact id)`` of the debtors' own addresses (``home_address``,
    ``work_address``), by customer and id; read in chunks of 5,000 customers (set-based)."""
    from .models import Contact

    ids, out = list(customer_ids), []
    for i in range(0, len(ids), 5000):
        out += Contact.objects.filter(customer_id__in=ids[i:i + 5000], party="debtor",
                                      kind__in=("home_address", "work_address")) \
            .order_by("customer_id", "id").values_list("customer_id", "kind", "id")
    return out


@dataclass(frozen=True)
class AccountFigures:
    """A card account's figures as of the last run: number, currency, minimum payment (Decimal),
    oldest unpaid due date and DPD."""

    external_id: str
    currency: str
    minimum_due: Decimal
    oldest_unpaid_due_date: date | None
    dpd: int


def account_figures(customer_id: int) -> list[AccountFigures]:
    """The customer's card accounts, worst DPD first (then by id). One query."""
    from .models import CardAccount

    return [AccountFigures(*r) for r in CardAccount.objects.filter(customer_id=customer_id).order_by("-dpd", "id")
            .values_list("external_id", "currency", "minimum_due", "oldest_unpaid_due_date", "dpd")]



# ---------------------------------------------------------------- used by money and strategy

from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402


@dataclass(frozen=True)
class AccountState:
    """A card account's figures as the money context replays them (the field names are the
    account's own). Amounts are ``Decimal`` in the account's ``currency`` (major units, 2 places);
    ``customer_timezone`` is the debtor's IANA time zone; ``as_of_extract`` the extract's date and
    ``extract_overdue_amount`` / ``extract_oldest_unpaid_due_date`` what the extract said then."""

    id: int
    external_id: str
    customer_id: int
    customer_timezone: str
    product_code: str
    currency: str
    credit_limit: Decimal
    balance: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    overdue_amount: Decimal
    oldest_unpaid_due_date: date | None
    as_of_extract: date
    extract_overdue_amount: Decimal
    extract_oldest_unpaid_due_date: date | None
    dpd: int
    bucket: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def audit_ref(self) -> tuple[str, int]:
        """The account as an audit event's object (``("portfolio.cardaccount", id)``)."""
        return ("portfolio.cardaccount", self.id)


_STATE_FIELDS = ("id", "external_id", "customer_id", "customer__timezone", "product_code", "currency",
                 "credit_limit", "balance", "principal", "interest", "fees", "overdue_amount",
                 "oldest_unpaid_due_date", "as_of_extract", "extract_overdue_amount",
                 "extract_oldest_unpaid_due_date", "dpd", "bucket")


def account_state(account_id: int, *, lock: bool = False) -> AccountState | None:
    """Account ``account_id`` as an :class:`AccountState`, or ``None``. With ``lock`` the row is
    locked until the caller's transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
    IMMEDIATE transaction already holds the write lock): call inside ``transaction.atomic``."""
    from .models import CardAccount

    qs = CardAccount.objects.filter(pk=account_id)
    if lock:
        qs = qs.select_for_update()
    row = qs.values_list(*_STATE_FIELDS).first()
    return AccountState(*row) if row else None


def account_id_for(external_id: str, *, customer_id: int | None = None) -> int | None:
    """The id of the account with card-system number ``external_id`` (of ``customer_id``, when
    given), or ``None``."""
    from .models import CardAccount

    qs = CardAccount.objects.filter(external_id=external_id)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.values_list("id", flat=True).first()


def account_ids_for(external_ids) -> dict[str, int]:
    """``{card-system number: account id}`` of the accounts among ``external_ids`` that exist."""
    from .models import CardAccount

    return dict(CardAccount.objects.filter(external_id__in=set(external_ids)).values_list("external_id", "id"))


def account_timezones() -> dict[str, str]:
    """``{card-system number: the debtor's IANA time zone}`` of every account (read in chunks)."""
    from .models import CardAccount

    return dict(CardAccount.objects.values_list("external_id", "customer__timezone").iterator(chunk_size=20_000))


def customer_timezone(customer_id: int) -> str | None:
    """The customer's IANA time zone (``None`` for no such customer)."""
    from .models import Customer

    return Customer.objects.filter(pk=customer_id).values_list("timezone", flat=True).first()


@dataclass(frozen=True)
class StatementFigures:
    """One statement of an account: dates and amounts (``Decimal``, the account's currency)."""

    statement_date: date
    due_date: date
    closing_balance: Decimal
    minimum_due: Decimal


def account_statements(account_id: int) -> list[StatementFigures]:
    """Every statement of the account, newest statement date first."""
    from .models import Statement

    return [StatementFigures(*r) for r in Statement.objects.filter(account_id=account_id)
            .order_by("-statement_date").values_list("statement_date", "due_date", "closing_balance", "minimum_due")]


def customer_account_figures(customer_id: int) -> list[tuple[int, Decimal, Decimal, str]]:
    """``(dpd, balance, overdue_amount, currency)`` of each of the customer's accounts."""
    from .models import CardAccount

    return list(CardAccount.objects.filter(customer_id=customer_id)
                .values_list("dpd", "balance", "overdue_amount", "currency"))


def write_replayed_figures(account_id: int, *, principal: Decimal, interest: Decimal, fees: Decimal,
                           balance: Decimal, overdue_amount: Decimal, oldest_unpaid_due_date: date | None,
                           dpd: int, bucket: str, as_of: date, cause: str) -> AccountState:
    """Store an account's figures replayed between two extracts (by a payment, reversal, waiver,
    settlement or write-off); when the bucket moves, one bucket-history row on ``as_of`` with the
    roll of the bucket ladder and ``cause`` (``BucketHistory.Cause``: ``payment``, ``reversal``,
    ``settlement``, ``waiver``, ``write_off``). The caller holds the account's row lock
    (:func:`account_state` with ``lock``). Returns the account as stored."""
    from arrears.rules import load_bucket_ladder

    from .models import BucketHistory, CardAccount

    before = CardAccount.objects.filter(pk=account_id).values_list("bucket", flat=True).get()
    CardAccount.objects.filter(pk=account_id).update(
        principal=principal, interest=interest, fees=fees, balance=balance, overdue_amount=overdue_amount,
        oldest_unpaid_due_date=oldest_unpaid_due_date, dpd=dpd, bucket=bucket)
    if bucket != before:
        BucketHistory.objects.create(account_id=account_id, as_of=as_of, dpd=dpd, bucket=bucket,
                                     previous_bucket=before, roll=load_bucket_ladder().roll(before, bucket),
                                     cause=cause)
    return account_state(account_id)


from .intake.extract import ExtractError  # noqa: E402,F401  (a rejected file: every problem, file/line/column)


def read_payments_file(path, as_of: date, account_timezones: dict[str, str]) -> list:
    """Read and validate a daily payments file (``payment_id, account_id, paid_at, amount,
    channel[, reverses]``) against the known accounts (``{card-system number: IANA time zone}``,
    see :func:`account_timezones`). Returns its rows in file order (``PaymentRow``: ``line``,
    ``payment_id``, ``account_id`` — the card-system number —, aware ``paid_at``, ``local_date``,
    ``amount`` Decimal, ``channel``, ``reverses``); raises :class:`ExtractError` listing every
    problem (nothing is to be posted from a rejected file)."""
    from .intake.payments import read_payments_file as read

    return read(path, as_of, account_timezones)


#: the columns of :func:`accounts_sql`
ACCOUNT_COLUMNS = ("account_id", "customer_id", "external_id", "currency", "credit_limit", "as_of_extract")


def accounts_sql() -> str:
    """Every card account as a relation for another context's set-based SQL
    (``FROM ({accounts_sql()}) a``): a ``SELECT`` without parameters yielding ``account_id``,
    ``customer_id``, ``external_id`` (the card-system number), ``currency`` (ISO 4217),
    ``credit_limit`` (decimal) and ``as_of_extract`` (the extract's date)."""
    from .models import CardAccount

    return (f"SELECT id AS account_id, customer_id, external_id, currency, credit_limit, as_of_extract "
            f"FROM {CardAccount._meta.db_table}")


def customers_sql() -> str:
    """Every customer as a relation (``FROM ({customers_sql()}) cu``): a ``SELECT`` without
    parameters yielding ``customer_id``, ``district`` ('' when unknown), ``language`` (e.g.
    ``zh-hans``) and ``timezone`` (IANA name). No personal data."""
    from .models import Customer

    return f"SELECT id AS customer_id, district, language, timezone FROM {Customer._meta.db_table}"




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
    #: the relation in the page's language (the extract's own text when it is not a known one)
    relation_label: str = ""


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

# ---------------------------------------------------------------- re-exported for other contexts
# (presentation helpers, the data scope, services another context calls as they are)
from .intake.uci import read_uci  # noqa: E402,F401
from .services import load_extract  # noqa: E402,F401
