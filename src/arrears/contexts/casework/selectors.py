"""Cases: reads for the collections desk.

- :func:`case_list`: the filtered work list, keyset ("seek") paginated by ``-max_dpd, -id``; no
  ``OFFSET`` and no unbounded ``COUNT(*)``, so it stays fast on millions of cases.
- :func:`case_detail`: everything the case page shows, as plain dataclasses. Personal data leaves
  this module masked only (:mod:`arrears.domain.masking`): the page never receives raw PII.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from django.db.models import F, Q
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from arrears.contexts.casework.models import STATUS_LABELS, Case, CaseEvent
from arrears.contexts.casework.panels import case_payments
from arrears.contexts.casework.scope import CONTACT_REVEAL_KIND, visible_cases
from arrears.contexts.portfolio import facade as portfolio
from arrears.contexts.portfolio.facade import mask_contact_value  # noqa: F401 (the desk's name for it)
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.cases import ACTIVE_STATUSES, CaseStatus
from arrears.domain.masking import mask_address, mask_name, mask_national_id, mask_phone
from arrears.domain.money import to_decimal
from arrears.rules import load_bucket_ladder

#: Page size of the work list, and the most a caller may ask for.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: The list counts matching cases up to this many and shows "more than N" beyond.
COUNT_CAP = 10_000
#: How much history the case page shows.
STATEMENTS_PER_ACCOUNT = 12
BUCKET_HISTORY_PER_ACCOUNT = 24
PAYMENTS_PER_CASE = 20
EVENTS_PER_CASE = 100


#: Payment channels with a name; other channels are shown by their code.
CHANNEL_LABELS: dict[str, Promise] = {
    "bank_transfer": _("银行转账"),
    "auto_debit": _("自动扣款"),
    "autodebit": _("自动扣款"),
    "counter": _("柜台"),
    "online_banking": _("网上银行"),
    "mobile_banking": _("手机银行"),
    "wechat": _("微信支付"),
    "alipay": _("支付宝"),
    "unionpay": _("银联"),
    "cash": _("现金"),
    "card_system": _("卡系统"),
}

_ACTIVE_VALUES = frozenset(s.value for s in ACTIVE_STATUSES)
#: Order of contacts on the case page: the debtor first, then phones before e-mail and addresses.
_PARTY_ORDER = list(portfolio.CONTACT_PARTY_ORDER)
_KIND_ORDER = list(portfolio.CONTACT_KIND_ORDER)


def _order(values: list[str], value: str) -> int:
    return values.index(value) if value in values else len(values)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def event_label(kind: str) -> str:
    """The event kind's name in the active language (its code when the kind is not declared)."""
    from .events import kind_label

    return kind_label(kind)


def channel_label(channel: str) -> str:
    label = CHANNEL_LABELS.get(channel)
    return str(label) if label is not None else channel


def status_choices() -> list[tuple[str, str]]:
    return [(s.value, status_label(s.value)) for s in CaseStatus]


@lru_cache(maxsize=1)
def bucket_names() -> tuple[str, ...]:
    """The bucket names of the packaged ladder (``rules/buckets.yaml``), in ladder order."""
    return load_bucket_ladder().names


def bucket_choices() -> list[tuple[str, str]]:
    return [(b, b) for b in bucket_names()]


# ---------------------------------------------------------------------------------------------
# A case's figures per currency
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyAmounts:
    """A case's figures in one currency: ``overdue`` and ``balance`` (Decimal, major units)."""

    currency: str
    overdue: Decimal
    balance: Decimal


def case_amounts(case) -> list[CurrencyAmounts]:
    """The case's figures in every currency the customer owes in — never summed across currencies.

    The one place that reads them: pages, SMS, call scripts, boards and exports all go through
    here. ``case`` is a :class:`~arrears.contexts.casework.models.Case` (or anything with its
    ``amounts``, ``currency``, ``overdue_amount`` and ``total_balance``). The figures come from
    ``Case.amounts`` (``{"CNY": {"overdue": "100.00", "balance": "1200.00"}, "USD": …}``, written by
    the daily run); when it is empty (rows written before it existed) the case's own currency and
    figures stand in. The case's primary currency (``case.currency``) comes first, then the others
    by overdue amount (largest first) and code.
    """
    raw = getattr(case, "amounts", None) or {}
    if not raw:
        return [CurrencyAmounts(case.currency, Decimal(case.overdue_amount), Decimal(case.total_balance))]
    rows = [CurrencyAmounts(cur, to_decimal(fig.get("overdue", "0"), f"amounts[{cur}].overdue"),
                            to_decimal(fig.get("balance", "0"), f"amounts[{cur}].balance"))
            for cur, fig in raw.items()]
    return sorted(rows, key=lambda r: (r.currency != case.currency, -r.overdue, r.currency))


def amounts_of(rows: list[CurrencyAmounts], figure: str) -> dict[str, Decimal]:
    """One figure (``"overdue"`` or ``"balance"``) per currency, in the order of ``rows``."""
    return {r.currency: getattr(r, figure) for r in rows}


def in_case_order(rows: list[CurrencyAmounts], totals: dict[str, Decimal]) -> dict[str, Decimal]:
    """``totals`` (currency → amount, e.g. minimum payments per currency) with the case's
    currencies first, in the order of ``rows``, then any other currency by code."""
    rank = {r.currency: i for i, r in enumerate(rows)}
    return dict(sorted(totals.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


# ---------------------------------------------------------------------------------------------
# The work list
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    """What the work list is narrowed to. Empty tuples and ``None`` mean "any"."""

    buckets: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    dpd_min: int | None = None
    dpd_max: int | None = None
    balance_min: Decimal | None = None
    balance_max: Decimal | None = None
    #: Only cases assigned to this user.
    assigned_to_id: int | None = None
    #: Exact case number (``C123`` or ``123``), customer number or card account number.
    q: str = ""

    @property
    def is_empty(self) -> bool:
        return self == CaseFilter()


class InvalidCursor(ArrearsError, ValueError):
    """A pagination cursor that was not made by :func:`case_list` (or was altered)."""

    code = ErrorCode.INVALID_CURSOR


@dataclass(frozen=True)
class _Position:
    max_dpd: int
    id: int


def encode_cursor(max_dpd: int, case_id: int) -> str:
    raw = json.dumps([int(max_dpd), int(case_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> _Position:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        dpd, case_id = value
        if not (isinstance(dpd, int) and isinstance(case_id, int)) or isinstance(dpd, bool) or case_id < 1:
            raise ValueError(value)
        return _Position(dpd, case_id)
    except (ValueError, TypeError, binascii.Error, UnicodeError, json.JSONDecodeError) as exc:
        raise InvalidCursor(token) from exc


@dataclass(frozen=True)
class CaseRow:
    id: int
    number: str
    customer_no: str
    customer_name: str  # masked
    bucket: str
    max_dpd: int
    total_balance: Decimal
    overdue_amount: Decimal
    currency: str
    status: str
    status_label: str
    is_closed: bool
    opened_on: date
    assigned_to: str
    #: every currency's figures (:func:`case_amounts`); ``total_balance`` / ``overdue_amount`` /
    #: ``currency`` above are the primary currency's (the list is sorted and filtered by them)
    amounts: list[CurrencyAmounts] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    rows: list[CaseRow]
    #: Cursor for the next page (pass as ``after``), ``None`` on the last page.
    next_cursor: str | None
    #: Cursor for the previous page (pass as ``before``), ``None`` on the first page.
    prev_cursor: str | None
    #: Number of matching cases, counted up to :data:`COUNT_CAP`.
    count: int
    #: ``True`` when more than :data:`COUNT_CAP` cases match (``count`` is then the cap).
    count_capped: bool
    limit: int
    #: ``False`` on any page reached through a cursor (the desk then offers "first page").
    is_first_page: bool = True

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def _filtered(user, filters: CaseFilter):
    qs = visible_cases(user)
    if filters.buckets:
        qs = qs.filter(bucket__in=list(filters.buckets))
    if filters.statuses:
        qs = qs.filter(status__in=list(filters.statuses))
    if filters.dpd_min is not None:
        qs = qs.filter(max_dpd__gte=filters.dpd_min)
    if filters.dpd_max is not None:
        qs = qs.filter(max_dpd__lte=filters.dpd_max)
    if filters.balance_min is not None:
        qs = qs.filter(total_balance__gte=filters.balance_min)
    if filters.balance_max is not None:
        qs = qs.filter(total_balance__lte=filters.balance_max)
    if filters.assigned_to_id is not None:
        qs = qs.filter(assigned_to_id=filters.assigned_to_id)
    q = filters.q.strip()
    if q:
        # Exact matches only, each on a unique index or keyed hash (no LIKE scan over millions of
        # rows); the few customer ids are looked up first so that the case query stays an index search.
        customer_ids = portfolio.customer_ids_matching(q)
        match = Q(customer_id__in=sorted(customer_ids))
        number = q[1:] if q[:1] in ("C", "c") else q
        if number.isdigit() and len(number) <= 18:
            match |= Q(pk=int(number))
        qs = qs.filter(match)
    return qs


def case_list(
    user,
    filters: CaseFilter,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    *,
    before: str | None = None,
) -> Page:
    """One page of the work list, most overdue first (``max_dpd`` descending, then ``id``).

    ``after`` (a page's ``next_cursor``) gives the page after that position, ``before`` (a page's
    ``prev_cursor``) the page before it; neither gives the first page. Pages are found by seeking
    on the ``(max_dpd, id)`` index, so the cost of a page does not grow with its depth. A cursor
    that is not well formed raises :class:`InvalidCursor`. Only cases in ``user``'s data scope
    (:func:`arrears.contexts.casework.scope.visible_cases`) are listed or counted.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    base = _filtered(user, filters)
    qs = base.select_related("customer", "assigned_to").only(
        "id", "bucket", "max_dpd", "total_balance", "overdue_amount", "currency", "amounts", "status", "opened_on",
        "customer__external_id", "customer__name", "assigned_to__username",
    )
    cases = None
    if before is not None:
        pos = decode_cursor(before)
        # Rows that sort before the position, fetched nearest first, then put back in order.
        seek = Q(max_dpd__gt=pos.max_dpd) | Q(max_dpd=pos.max_dpd, id__gt=pos.id)
        chunk = list(qs.filter(max_dpd__gte=pos.max_dpd).filter(seek).order_by("max_dpd", "id")[: limit + 1])
        if len(chunk) > limit:
            cases = list(reversed(chunk[:limit]))
            has_prev, has_next = True, True
        else:
            # Back at the start: show the first page itself, always full even if cases were added.
            before = None
    if cases is None:
        if after is not None:
            pos = decode_cursor(after)
            seek = Q(max_dpd__lt=pos.max_dpd) | Q(max_dpd=pos.max_dpd, id__lt=pos.id)
            qs = qs.filter(max_dpd__lte=pos.max_dpd).filter(seek)
        chunk = list(qs.order_by("-max_dpd", "-id")[: limit + 1])
        has_next = len(chunk) > limit
        cases = chunk[:limit]
        has_prev = after is not None
    count = base.order_by().values("pk")[: COUNT_CAP + 1].count()
    return Page(
        rows=[_row(c) for c in cases],
        next_cursor=encode_cursor(cases[-1].max_dpd, cases[-1].pk) if cases and has_next else None,
        prev_cursor=encode_cursor(cases[0].max_dpd, cases[0].pk) if cases and has_prev else None,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        limit=limit,
        is_first_page=before is None and after is None,
    )


#: The most rows one CSV export carries.
EXPORT_CAP = 10_000


def case_export_rows(user, filters: CaseFilter, cap: int = EXPORT_CAP) -> list[CaseRow]:
    """The filtered work list in scope, in list order, at most ``cap`` rows (masked)."""
    rows: list[CaseRow] = []
    page = case_list(user, filters, limit=MAX_LIMIT)
    while True:
        rows.extend(page.rows)
        if not page.has_next or len(rows) >= cap:
            return rows[:cap]
        page = case_list(user, filters, after=page.next_cursor, limit=MAX_LIMIT)


def _row(c: Case) -> CaseRow:
    return CaseRow(
        id=c.pk,
        number=f"C{c.pk}",
        customer_no=c.customer.external_id,
        customer_name=mask_name(c.customer.name),
        bucket=c.bucket,
        max_dpd=c.max_dpd,
        total_balance=c.total_balance,
        overdue_amount=c.overdue_amount,
        currency=c.currency,
        status=c.status,
        status_label=status_label(c.status),
        is_closed=c.status not in _ACTIVE_VALUES,
        opened_on=c.opened_on,
        assigned_to=c.assigned_to.username if c.assigned_to_id else "",
        amounts=case_amounts(c),
    )


# ---------------------------------------------------------------------------------------------
# The case page
# ---------------------------------------------------------------------------------------------


class CaseNotFound(ArrearsError, LookupError):
    """No case with this id in the user's data scope (the views answer 404 either way)."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, case_id=None) -> None:
        self.case_id = case_id
        super().__init__(f"no case {case_id} in your scope" if case_id is not None else None)


@dataclass(frozen=True)
class CustomerView:
    """The debtor, masked."""

    id: int
    external_id: str
    name: str
    national_id: str
    sex: str
    district: str
    timezone: str
    language: str
    #: The debtor's own first mobile number and home address, masked ("" when none on file).
    phone: str
    address: str
    #: the contacts those two come from (for revealing them), ``None`` when none on file
    phone_contact_id: int | None = None
    address_contact_id: int | None = None


@dataclass(frozen=True)
class ContactView:
    id: int
    #: which kind of personal value ``value`` is (phone, email, address) for revealing it
    reveal_kind: str
    kind: str
    kind_label: str
    party: str
    party_label: str
    party_name: str  # masked
    relation: str
    value: str  # masked
    district: str
    #: the relation in the page's language
    relation_label: str = ""


@dataclass(frozen=True)
class StatementView:
    statement_date: date
    due_date: date
    closing_balance: Decimal
    minimum_due: Decimal
    delinquency_status: int | None
    status_label: str


@dataclass(frozen=True)
class BucketChange:
    as_of: date
    dpd: int
    bucket: str
    previous_bucket: str
    roll: str
    roll_label: str


@dataclass(frozen=True)
class AccountView(portfolio.AccountRecord):
    """An account's figures (the portfolio's :class:`AccountRecord`) with its latest statements and
    bucket moves, for the case page."""

    statements: list[StatementView] = field(default_factory=list)
    bucket_history: list[BucketChange] = field(default_factory=list)


@dataclass(frozen=True)
class Totals:
    """Sums over a case's accounts in one currency."""

    currency: str
    balance: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    overdue_amount: Decimal
    minimum_due: Decimal
    accounts: int


@dataclass(frozen=True)
class PaymentView:
    account_external_id: str
    external_id: str
    paid_at: datetime
    local_date: date
    amount: Decimal
    currency: str
    channel: str
    channel_label: str


@dataclass(frozen=True)
class EventView:
    at: datetime
    as_of: date | None
    kind: str
    kind_label: str
    from_status: str
    from_label: str
    to_status: str
    to_label: str
    actor: str
    reason: str
    #: What changed, in words, for kinds whose data says it (e.g. a bucket change ``M2 → M3``).
    detail: str = ""


@dataclass(frozen=True)
class CaseDetail:
    id: int
    number: str
    status: str
    status_label: str
    is_closed: bool
    bucket: str
    max_dpd: int
    total_balance: Decimal
    overdue_amount: Decimal
    currency: str
    opened_on: date
    closed_on: date | None
    assigned_to: str
    last_run_as_of: date | None
    customer: CustomerView
    contacts: list[ContactView]
    accounts: list[AccountView]
    totals: list[Totals]
    payments: list[PaymentView]
    events: list[EventView]
    #: ``True`` when the case has more events than :data:`EVENTS_PER_CASE` shown.
    events_truncated: bool
    #: every currency's figures (:func:`case_amounts`), the primary currency first; the page shows
    #: these — ``total_balance`` / ``overdue_amount`` / ``currency`` above are the primary's only
    amounts: list[CurrencyAmounts] = field(default_factory=list)


def statement_status_label(status: int | None) -> str:
    """The card system's repayment status of a cycle in words."""
    if status is None:
        return ""
    if status == -2:
        return gettext("无消费")
    if status == -1:
        return gettext("全额还款")
    if status == 0:
        return gettext("循环信用")
    return ngettext("逾期 %(months)s 期", "逾期 %(months)s 期", status) % {"months": status}


def case_detail(user, case_id: int) -> CaseDetail:
    """Everything the case page shows; raises :class:`CaseNotFound` when no such case is in
    ``user``'s data scope.

    A fixed number of queries whatever the number of accounts: case (with its customer), contacts,
    accounts, statements, bucket history (the portfolio's facade), payments (the money context's,
    :func:`arrears.contexts.casework.panels.register_case_payments`) and events (the last four limited per account/case).
    """
    try:
        case = visible_cases(user).select_related("customer", "assigned_to").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise CaseNotFound(case_id) from None
    customer = case.customer  # the case's own relation (the portfolio's customer row, joined)

    contacts = sorted(
        portfolio.customer_contacts(customer.pk),
        key=lambda c: (_order(_PARTY_ORDER, c.party), _order(_KIND_ORDER, c.kind), c.id),
    )
    accounts = portfolio.customer_accounts(customer.pk)
    account_ids = [a.id for a in accounts]
    currency_of = {a.id: a.currency for a in accounts}
    number_of = {a.id: a.external_id for a in accounts}

    statements = portfolio.latest_statements(account_ids, STATEMENTS_PER_ACCOUNT)
    history = portfolio.latest_bucket_moves(account_ids, BUCKET_HISTORY_PER_ACCOUNT)
    payments = case_payments(account_ids, PAYMENTS_PER_CASE)  # from the money context (registered)
    events = list(
        CaseEvent.objects.filter(case_id=case.pk).select_related("actor").order_by("-at", "-id")[: EVENTS_PER_CASE + 1]
    )

    account_views = [
        AccountView(
            **{f.name: getattr(a, f.name) for f in fields(portfolio.AccountRecord)},
            statements=[
                StatementView(
                    statement_date=s.statement_date,
                    due_date=s.due_date,
                    closing_balance=s.closing_balance,
                    minimum_due=s.minimum_due,
                    delinquency_status=s.delinquency_status,
                    status_label=statement_status_label(s.delinquency_status),
                )
                for s in statements.get(a.id, [])
            ],
            bucket_history=[
                BucketChange(
                    as_of=h.as_of,
                    dpd=h.dpd,
                    bucket=h.bucket,
                    previous_bucket=h.previous_bucket,
                    roll=h.roll,
                    roll_label=h.roll_label,
                )
                for h in history.get(a.id, [])
            ],
        )
        for a in accounts
    ]

    first_phone = next((c for c in contacts if c.party == "debtor" and c.kind == "mobile"), None)
    first_address = next((c for c in contacts if c.party == "debtor" and c.kind == "home_address"), None)
    return CaseDetail(
        id=case.pk,
        number=f"C{case.pk}",
        status=case.status,
        status_label=status_label(case.status),
        is_closed=case.status not in _ACTIVE_VALUES,
        bucket=case.bucket,
        max_dpd=case.max_dpd,
        total_balance=case.total_balance,
        overdue_amount=case.overdue_amount,
        currency=case.currency,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        assigned_to=case.assigned_to.username if case.assigned_to_id else "",
        last_run_as_of=case.last_run_as_of,
        customer=CustomerView(
            id=customer.pk,
            external_id=customer.external_id,
            name=mask_name(customer.name),
            national_id=mask_national_id(customer.national_id),
            sex=str(customer.get_sex_display()) if customer.sex else "",
            district=customer.district,
            timezone=customer.timezone,
            language=customer.language,
            phone=mask_phone(first_phone.value) if first_phone else "",
            address=mask_address(first_address.value) if first_address else "",
            phone_contact_id=first_phone.id if first_phone else None,
            address_contact_id=first_address.id if first_address else None,
        ),
        contacts=[
            ContactView(
                id=c.id,
                reveal_kind=CONTACT_REVEAL_KIND.get(c.kind, ""),
                kind=c.kind,
                kind_label=c.kind_label,
                party=c.party,
                party_label=c.party_label,
                party_name=mask_name(c.party_name),
                relation=c.relation,
                value=mask_contact_value(c.kind, c.value),
                district=c.district,
                relation_label=c.relation_label or c.relation,
            )
            for c in contacts
        ],
        accounts=account_views,
        totals=_totals(accounts),
        payments=[
            PaymentView(
                account_external_id=number_of[p.account_id],
                external_id=p.external_id,
                paid_at=p.paid_at,
                local_date=p.local_date,
                amount=p.amount,
                currency=currency_of[p.account_id],
                channel=p.channel,
                channel_label=channel_label(p.channel),
            )
            for p in payments
        ],
        events=[_event(e, case.currency, customer.timezone) for e in events[:EVENTS_PER_CASE]],
        events_truncated=len(events) > EVENTS_PER_CASE,
        amounts=case_amounts(case),
    )


def _totals(accounts: list) -> list[Totals]:
    by_currency: dict[str, list] = defaultdict(list)
    for a in accounts:
        by_currency[a.currency].append(a)
    zero = Decimal("0.00")
    return [
        Totals(
            currency=cur,
            balance=sum((a.balance for a in accs), zero),
            principal=sum((a.principal for a in accs), zero),
            interest=sum((a.interest for a in accs), zero),
            fees=sum((a.fees for a in accs), zero),
            overdue_amount=sum((a.overdue_amount for a in accs), zero),
            minimum_due=sum((a.minimum_due for a in accs), zero),
            accounts=len(accs),
        )
        for cur, accs in sorted(by_currency.items())
    ]


def _event(e: CaseEvent, currency: str = "", tz: str = "") -> EventView:
    """One timeline event for a page. A kind with a describer (its writer's words for its data and
    states, :func:`arrears.contexts.casework.events.register_event_describer`) shows those; the
    states of the others are named as case statuses."""
    from .events import DESCRIBERS, EventFacts, describe_event

    described = e.kind in DESCRIBERS
    return EventView(
        at=e.at,
        as_of=e.as_of,
        kind=e.kind,
        kind_label=event_label(e.kind),
        from_status=e.from_status,
        from_label=status_label(e.from_status) if e.from_status and not described else "",
        to_status=e.to_status,
        to_label=status_label(e.to_status) if e.to_status and not described else "",
        actor=e.actor.username if e.actor_id else "",
        reason=gettext(e.reason) if e.reason else "",
        detail=describe_event(EventFacts(e.kind, e.data, e.from_status, e.to_status, currency, tz)),
    )


def case_events(case_id: int, limit: int = EVENTS_PER_CASE) -> list[EventView]:
    """The case's latest ``limit`` timeline events in words, newest first (one query; no scope
    check: the caller has read the case through the user's scope)."""
    currency, tz = Case.objects.filter(pk=case_id).values_list("currency", "customer__timezone").first() or ("", "")
    events = CaseEvent.objects.filter(case_id=case_id).select_related("actor").order_by("-at", "-id")[:limit]
    return [_event(e, currency, tz) for e in events]


def _bucket_changed(f) -> str:
    data = f.data
    if not data.get("to"):
        return ""
    moved = f"{data.get('from') or '–'} → {data['to']}"
    if isinstance(data.get("dpd"), int):
        return moved + " · " + ngettext("逾期 %(dpd)s 天", "逾期 %(dpd)s 天", data["dpd"]) % {"dpd": data["dpd"]}
    return moved


def _note(f) -> str:
    return str(f.data.get("text") or "")


#: The core kinds casework itself puts in words (other contexts register theirs).
CORE_DESCRIBERS = {CaseEvent.Kind.BUCKET_CHANGED.value: _bucket_changed, CaseEvent.Kind.NOTE.value: _note}


@dataclass(frozen=True)
class CaseRef:
    """A case as other apps may hold it (no model): ids, status, bucket, dates, currency, the
    debtor's time zone."""

    id: int
    customer_id: int
    status: str
    bucket: str
    opened_on: date
    closed_on: date | None
    currency: str
    timezone: str

    @property
    def is_closed(self) -> bool:
        from arrears.contexts.casework.models import CLOSED

        return self.status in CLOSED


def open_case_for_customer(customer_id: int, *, latest: bool = False) -> CaseRef | None:
    """The customer's open case (at most one: ``one_open_case_per_customer``), or ``None``; with
    ``latest=True`` and no open case, their most recently opened (closed) case instead — where a
    payment after the close is recorded. No data scope: for services, not for users."""
    qs = Case.objects.filter(customer_id=customer_id)
    if not latest:
        qs = qs.filter(closed_on__isnull=True)
    row = (qs.order_by(F("closed_on").asc(nulls_first=True), "-opened_on", "-id")
           .values_list("id", "customer_id", "status", "bucket", "opened_on", "closed_on", "currency",
                        "customer__timezone").first())
    return CaseRef(*row) if row else None


# ---------------------------------------------------------------------------------------------
# Retention and subject access (arrears.pipeline.retention / .subject, through the facade)
# ---------------------------------------------------------------------------------------------


def erasure_candidates(closed_before: date, *, customer_id: int | None = None) -> list:
    """See :func:`arrears.contexts.casework.facade.erasure_candidates`."""
    from django.db.models import Count, Max

    from .facade import ErasureCandidate
    from .models import CLOSED

    qs = Case.objects.all() if customer_id is None else Case.objects.filter(customer_id=customer_id)
    rows = (
        qs.order_by().values("customer_id", "customer__external_id", "customer__purged_at")
        .annotate(
            last_closed_on=Max("closed_on"),
            open_cases=Count("pk", filter=Q(closed_on__isnull=True) | ~Q(status__in=CLOSED)),
            # a case opened on or after the purge: the customer came back, their data was loaded again
            opened_since_purge=Count("pk", filter=Q(opened_on__gte=F("customer__purged_at__date"))),
        )
        .filter(open_cases=0, last_closed_on__lt=closed_before)
        .filter(Q(customer__purged_at__isnull=True) | Q(opened_since_purge__gt=0))
        .order_by("last_closed_on", "customer_id")
        .values_list("customer_id", "customer__external_id", "last_closed_on")
    )
    return [ErasureCandidate(cid, ext, closed) for cid, ext, closed in rows]


def subject_records(customer_id: int) -> dict:
    """See :func:`arrears.contexts.casework.facade.subject_records`."""
    from arrears.core.privacy.export import rows

    return {"cases": rows(Case.objects.filter(customer_id=customer_id)),
            "case_events": rows(CaseEvent.objects.filter(case__customer_id=customer_id)),
            "_labels": {"cases": Case._meta.label_lower, "case_events": CaseEvent._meta.label_lower}}


def read_open_cases():
    """See :func:`arrears.contexts.casework.facade.read_open_cases`."""
    from arrears.core import dbio
    from arrears.engines.daily import OPEN_CASE_SCHEMA

    t = Case._meta.db_table
    return dbio.read_arrow(
        f"SELECT id AS case_id, customer_id, status, bucket AS case_bucket, max_dpd AS case_max_dpd, "
        f"CAST(total_balance AS TEXT) AS case_balance, CAST(overdue_amount AS TEXT) AS case_overdue, "
        f"CAST(amounts AS TEXT) AS case_amounts "
        f"FROM {t} WHERE closed_on IS NULL",
        schema=OPEN_CASE_SCHEMA,
    )
