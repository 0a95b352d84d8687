"""The portfolio context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

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
