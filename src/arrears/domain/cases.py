"""The case state machine: statuses and the one declared map of allowed transitions.

A case is opened by the daily run when a customer becomes delinquent, is worked ``in_collection``,
may be put ``on_hold`` (dispute, complaint, litigation stay) and ends in exactly one closed status.
Closed statuses are final: a customer who becomes delinquent again gets a new case.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from .buckets import BucketLadder
from arrears.core.machine import TransitionMap

from .errors import IllegalTransition
from .money import ZERO, money


class CaseStatus(str, Enum):
    OPEN = "open"
    IN_COLLECTION = "in_collection"
    ON_HOLD = "on_hold"
    CLOSED_CURED = "closed_cured"
    CLOSED_PAID = "closed_paid"
    CLOSED_WRITTEN_OFF = "closed_written_off"
    CLOSED_RECALLED = "closed_recalled"

    @property
    def is_closed(self) -> bool:
        return self.value.startswith("closed_")


_ACTIVE = (CaseStatus.OPEN, CaseStatus.IN_COLLECTION, CaseStatus.ON_HOLD)
_CLOSED = tuple(s for s in CaseStatus if s.is_closed)

#: The declared transition map: status → statuses it may move to.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_COLLECTION, CaseStatus.ON_HOLD, *_CLOSED}),
    CaseStatus.IN_COLLECTION: frozenset({CaseStatus.ON_HOLD, *_CLOSED}),
    CaseStatus.ON_HOLD: frozenset({CaseStatus.IN_COLLECTION, *_CLOSED}),
    **{s: frozenset() for s in _CLOSED},
}

ACTIVE_STATUSES = frozenset(_ACTIVE)
CLOSED_STATUSES = frozenset(_CLOSED)


#: The case map as the one transition helper checks it (:mod:`arrears.core.machine`).
MACHINE = TransitionMap("case", TRANSITIONS, error=IllegalTransition)


def check_transition(from_status: str | CaseStatus, to_status: str | CaseStatus) -> CaseStatus:
    """Return ``to_status`` as a :class:`CaseStatus` if the map allows ``from → to``.

    Raises :class:`IllegalTransition` when the move is not declared (including any move out of a
    closed status, and a move to the same status), ``ValueError`` for an unknown status.
    """
    return CaseStatus(MACHINE.check(CaseStatus(from_status), CaseStatus(to_status)))


# ---------------------------------------------------------------------------- case open/update/close
#
# One home for "is this customer worked as a case, with which figures, and what happens to the
# case": per customer (:func:`customer_position`, :func:`case_action`: the payment service, the
# reversal, settlements and waivers) and over the portfolio (:func:`POSITIONS_SQL`,
# :func:`CASE_ACTIONS_SQL`: the daily run). ``tests/unit/test_case_lifecycle_parity.py`` runs both.



@dataclass(frozen=True)
class AccountFigures:
    """One card account's figures for the case: ``currency`` (ISO 4217), ``dpd`` (days), ``balance``
    and ``overdue_amount`` (Decimal, in that currency)."""

    currency: str
    dpd: int
    balance: Decimal
    overdue_amount: Decimal


@dataclass(frozen=True)
class CustomerPosition:
    """A customer's figures over all their card accounts, never summed across currencies.

    ``max_dpd`` (days) and ``bucket``: of the worst account; ``amounts``: per currency
    ``{"balance": Decimal (positive balances only), "overdue": Decimal}``; ``currency``: the primary
    currency (of the account with the highest DPD; ties: alphabetical), whose figures are
    ``total_balance`` / ``overdue_amount``; ``delinquent``: worked as a case — some currency has
    something past due above the tolerance (:func:`arrears.domain.delinquency.needs_collection`)."""

    max_dpd: int
    bucket: str
    currency: str
    total_balance: Decimal
    overdue_amount: Decimal
    delinquent: bool
    amounts: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)

    def amounts_json(self) -> str:
        """``amounts`` as the canonical JSON stored on the case (currencies sorted, Decimal strings)."""
        return amounts_json(self.amounts)


def amounts_json(amounts: Mapping[str, Mapping[str, Decimal]]) -> str:
    """Canonical JSON of per-currency figures: ``{"CNY":{"balance":"1.00","overdue":"2.00"}}``."""
    return json.dumps({c: {"balance": str(money(v["balance"])), "overdue": str(money(v["overdue"]))}
                       for c, v in sorted(amounts.items())}, separators=(",", ":"))


def customer_position(accounts: Iterable[AccountFigures], ladder: BucketLadder,
                      tolerance: Decimal = ZERO) -> CustomerPosition:
    """The customer's :class:`CustomerPosition` (see there). ``tolerance``: 容差还款 (PBoC
    银发〔2016〕111号), an unpaid remainder at or below it counts as paid; one setting,
    ``ARREARS_REPAYMENT_TOLERANCE``, in the account currency's major units."""
    from .delinquency import needs_collection

    accounts = list(accounts)
    amounts: dict[str, dict[str, Decimal]] = {}
    dpd_by_cur: dict[str, int] = {}
    for a in accounts:
        cur = amounts.setdefault(a.currency, {"balance": ZERO, "overdue": ZERO})
        cur["balance"] += max(money(a.balance), ZERO)
        cur["overdue"] += money(a.overdue_amount)
        dpd_by_cur[a.currency] = max(dpd_by_cur.get(a.currency, 0), a.dpd)
    max_dpd = max(dpd_by_cur.values(), default=0)
    primary = min((c for c, d in dpd_by_cur.items() if d == max_dpd), default="CNY")
    delinquent = any(needs_collection(dpd_by_cur[c], v["overdue"], tolerance) for c, v in amounts.items())
    p = amounts.get(primary, {"balance": ZERO, "overdue": ZERO})
    return CustomerPosition(max_dpd, ladder.bucket_for(max_dpd), primary, p["balance"], p["overdue"], delinquent,
                            amounts)


def case_action(position: CustomerPosition | None, case: Mapping | None) -> str:
    """What the customer's case needs: ``open`` (delinquent, no open case), ``close`` (open case,
    no longer delinquent), ``update`` (open case whose figures changed), or ``none``.

    ``case``: the open case's ``bucket, max_dpd, total_balance, overdue_amount, amounts`` (JSON text
    or mapping), or ``None``. How it closes (``closed_cured`` / ``closed_paid``) is
    :func:`closing_status`."""
    delinquent = position is not None and position.delinquent
    if case is None:
        return "open" if delinquent else "none"
    if not delinquent:
        return "close"
    stored = case.get("amounts") or "{}"
    stored = json.loads(stored) if isinstance(stored, str) else stored
    if (position.max_dpd != case["max_dpd"] or position.bucket != case["bucket"]
            or money(position.total_balance) != money(case["total_balance"])
            or money(position.overdue_amount) != money(case["overdue_amount"])
            or json.loads(position.amounts_json()) != stored):
        return "update"
    return "none"


def closing_status(owed_in_every_currency: Iterable[Decimal]) -> CaseStatus:
    """A case that is no longer delinquent closes ``closed_paid`` when nothing at all is owed in any
    currency, else ``closed_cured`` (the account is current again but not paid off)."""
    return CaseStatus.CLOSED_PAID if all(money(v) <= 0 for v in owed_in_every_currency) else CaseStatus.CLOSED_CURED


def POSITIONS_SQL(accounts: str, ladder: BucketLadder, tolerance: Decimal = ZERO) -> str:
    """Set-based :func:`customer_position`: one row per customer with ``customer_id, max_dpd,
    bucket, currency, total_balance, overdue_amount, delinquent, amounts`` (canonical JSON text).
    ``accounts`` names a relation with ``customer_id, currency, dpd, balance, overdue_amount``. DuckDB SQL."""
    tol = f"{money(tolerance)}::DECIMAL(16,2)"
    return f"""
    WITH cur AS (
        SELECT customer_id, currency, max(dpd)::INTEGER AS dpd,
               sum(greatest(balance, 0))::DECIMAL(16,2) AS balance,
               sum(overdue_amount)::DECIMAL(16,2) AS overdue
        FROM {accounts} GROUP BY customer_id, currency
    )
    SELECT customer_id, max(dpd)::INTEGER AS max_dpd,
           {bucket_sql(ladder, 'max(dpd)')} AS bucket,
           first(currency ORDER BY dpd DESC, currency) AS currency,
           first(balance ORDER BY dpd DESC, currency) AS total_balance,
           first(overdue ORDER BY dpd DESC, currency) AS overdue_amount,
           bool_or(dpd > 0 AND overdue > {tol}) AS delinquent,
           '{{' || string_agg('"' || currency || '":{{"balance":"' || balance::VARCHAR || '","overdue":"'
                              || overdue::VARCHAR || '"}}', ',' ORDER BY currency) || '}}' AS amounts
    FROM cur GROUP BY customer_id
    """


def CASE_ACTIONS_SQL(positions: str, open_cases: str) -> str:
    """Set-based :func:`case_action`: today's customer positions joined with the open cases.

    ``open_cases``: ``case_id, customer_id, status, case_bucket, case_max_dpd, case_balance,
    case_overdue, case_amounts`` (JSON text). Adds ``action``. DuckDB SQL."""
    return f"""
    SELECT coalesce(p.customer_id, c.customer_id) AS customer_id, c.case_id, c.status,
           p.max_dpd, p.bucket, p.total_balance, p.overdue_amount, p.currency, p.amounts, c.case_bucket,
           CASE WHEN c.case_id IS NULL THEN 'open'
                WHEN p.customer_id IS NULL THEN 'close'
                WHEN p.max_dpd IS DISTINCT FROM c.case_max_dpd OR p.bucket IS DISTINCT FROM c.case_bucket
                  OR p.total_balance IS DISTINCT FROM c.case_balance
                  OR p.overdue_amount IS DISTINCT FROM c.case_overdue
                  OR json(p.amounts) IS DISTINCT FROM json(coalesce(c.case_amounts, '{{}}'))
                THEN 'update' ELSE 'none' END AS action
    FROM (SELECT * FROM {positions} WHERE delinquent) p
    FULL OUTER JOIN {open_cases} c ON p.customer_id = c.customer_id
    """


def bucket_sql(ladder: BucketLadder, column: str) -> str:
    """A SQL ``CASE`` giving the bucket name of the DPD in ``column`` (the same ladder as
    :meth:`BucketLadder.bucket_for`)."""
    whens = []
    for b in ladder.buckets:
        if b.max_dpd is None:
            whens.append(f"WHEN {column} >= {b.min_dpd} THEN '{b.name}'")
        else:
            whens.append(f"WHEN {column} BETWEEN {b.min_dpd} AND {b.max_dpd} THEN '{b.name}'")
    return "CASE " + " ".join(whens) + " END"
