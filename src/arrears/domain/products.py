"""Card product terms (产品条款): interest, 违约金, minimum payment and the payment allocation order.

A product's terms are rule data (``arrears/rules/products/<CODE>.yaml``, loaded and validated by
:func:`arrears.rules.products.load_product`); this module holds the plain, validated object and
the arithmetic on it. Amounts are :class:`~decimal.Decimal` in the account currency (two
decimals); rates are fractions (``Decimal("0.0005")`` is 万分之五 per day), never percentages and
never floats.

Regulatory sources (``tests/fixtures/compliance_RULES.md``):

* CN-RATE-01 — from 2021-01-01 the overdraft rate is agreed freely, but the **annualised rate must
  always be shown** (showing only the daily rate is not allowed): :attr:`ProductTerms.annual_rate`
  and :meth:`ProductTerms.rate_display` always give it, whichever rate the product states.
* CN-RATE-02 — 违约金 (late-payment penalty) is agreed by contract (it replaced 滞纳金 in 2017);
  no interest is charged on service fees: the interest base is principal only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .errors import DomainError
from .interest import BASES
from .money import ZERO, money, quantize, to_decimal

__all__ = [
    "COMPONENTS",
    "INTEREST_METHODS",
    "PenaltyTerms",
    "MinimumPaymentTerms",
    "ProductTerms",
    "check_allocation_order",
]

#: The parts of what a cardholder owes, as the allocation order names them.
#: ``fees`` 费用 (annual fee, service and collection costs), ``penalty`` 违约金,
#: ``interest`` 利息, ``principal`` 本金 (purchases, cash advances: the interest-bearing part).
COMPONENTS: tuple[str, ...] = ("fees", "penalty", "interest", "principal")

#: ``unpaid_portion``: interest only on the principal still unpaid (each payment lowers the base
#: from its date). ``full_balance``: interest on the full principal of the opening (statement)
#: balance until it is paid off in full (全额计息), partial payments do not lower the base.
INTEREST_METHODS: tuple[str, ...] = ("unpaid_portion", "full_balance")


def check_allocation_order(order: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return ``order`` as a tuple if it names each of :data:`COMPONENTS` exactly once.

    Raises :class:`DomainError` listing what is missing, repeated or unknown (R03: the order is a
    setting and is stored on each payment, so it must be complete).
    """
    order = tuple(order)
    problems = []
    unknown = [c for c in order if c not in COMPONENTS]
    if unknown:
        problems.append(f"unknown component(s) {unknown}")
    repeated = sorted({c for c in order if order.count(c) > 1})
    if repeated:
        problems.append(f"repeated component(s) {repeated}")
    missing = [c for c in COMPONENTS if c not in order]
    if missing:
        problems.append(f"missing component(s) {missing}")
    if problems:
        raise DomainError("allocation order " + "; ".join(problems) + f"; expected a permutation of {list(COMPONENTS)}")
    return order


@dataclass(frozen=True, slots=True)
class PenaltyTerms:
    """违约金: ``rate`` × the minimum payment still unpaid after its due date, rounded once with the
    money rule, then held within ``[minimum, maximum]`` (``maximum`` ``None``: no cap). No penalty
    when nothing of the minimum is unpaid. Example: 5 % of 300.00 unpaid = 15.00; with minimum
    10.00 and maximum 100.00 → 15.00; 5 % of 40.00 = 2.00 → 10.00 (the minimum)."""

    rate: Decimal
    minimum: Decimal = ZERO
    maximum: Decimal | None = None

    def __post_init__(self) -> None:
        rate = to_decimal(self.rate, "penalty.rate")
        if rate < 0 or rate > 1:
            raise DomainError(f"penalty.rate must be a fraction between 0 and 1, got {rate}")
        lo = money(self.minimum)
        hi = None if self.maximum is None else money(self.maximum)
        if lo < 0 or (hi is not None and hi < lo):
            raise DomainError(f"penalty bounds must satisfy 0 <= minimum <= maximum, got {lo} … {hi}")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "minimum", lo)
        object.__setattr__(self, "maximum", hi)

    def amount(self, unpaid_minimum: Decimal) -> Decimal:
        """The 违约金 for ``unpaid_minimum`` (Decimal ≥ 0, yuan) left unpaid at a due date."""
        unpaid = money(unpaid_minimum)
        if unpaid < 0:
            raise DomainError(f"unpaid minimum must not be negative, got {unpaid}")
        if unpaid == 0:
            return ZERO
        value = max(quantize(unpaid * self.rate), self.minimum)
        return min(value, self.maximum) if self.maximum is not None else value


@dataclass(frozen=True, slots=True)
class MinimumPaymentTerms:
    """最低还款额 = ``principal_rate`` × principal (rounded once) + all interest, 违约金 and fees due,
    at least ``floor`` (or the whole balance when that is smaller). Example: 10 % of 2,000.00
    principal + 30.00 interest + 15.00 违约金 + 0 fees = 245.00."""

    principal_rate: Decimal
    floor: Decimal = ZERO

    def __post_init__(self) -> None:
        rate = to_decimal(self.principal_rate, "minimum_payment.principal_rate")
        if rate <= 0 or rate > 1:
            raise DomainError(f"minimum_payment.principal_rate must be in (0, 1], got {rate}")
        object.__setattr__(self, "principal_rate", rate)
        object.__setattr__(self, "floor", money(self.floor))

    def amount(self, principal: Decimal, interest: Decimal, penalty: Decimal, fees: Decimal) -> Decimal:
        """The minimum payment for a balance made of these parts (each Decimal ≥ 0)."""
        parts = [money(v) for v in (principal, interest, penalty, fees)]
        if any(p < 0 for p in parts):
            raise DomainError(f"balance parts must not be negative, got {parts}")
        total = sum(parts, ZERO)
        value = quantize(parts[0] * self.principal_rate) + parts[1] + parts[2] + parts[3]
        return min(max(value, self.floor), total)


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """The terms of one card product, as loaded from ``rules/products/<code>.yaml``.

    Exactly one of ``daily_rate`` / ``annual_rate`` is stated by the product (fractions); the other
    is derived with the day-count ``basis`` (365 days for ``actual/365``, 360 for ``actual/360``,
    365 for the actual/actual bases): 0.0005 per day = 0.1825 a year on actual/365.
    ``interest_free_days``: the longest interest-free period (免息期) from the statement date;
    lost when the statement is not paid in full by its due date. ``allocation_order``: a
    permutation of :data:`COMPONENTS`, first paid first (e.g. costs → interest → principal).
    """

    code: str
    version: str
    name_zh: str
    name_en: str
    currency: str
    basis: str
    interest_method: str
    interest_free_days: int
    penalty: PenaltyTerms
    minimum_payment: MinimumPaymentTerms
    allocation_order: tuple[str, ...]
    daily_rate: Decimal | None = None
    annual_rate: Decimal | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise DomainError(f"product {self.code}: unknown day-count basis {self.basis!r}; expected one of {BASES}")
        if self.interest_method not in INTEREST_METHODS:
            raise DomainError(f"product {self.code}: interest_method must be one of {INTEREST_METHODS}")
        if (self.daily_rate is None) == (self.annual_rate is None):
            raise DomainError(f"product {self.code}: state exactly one of daily_rate and annual_rate")
        days = Decimal(self.year_days)
        if self.daily_rate is not None:
            daily = to_decimal(self.daily_rate, "daily_rate")
            annual = daily * days
        else:
            annual = to_decimal(self.annual_rate, "annual_rate")
            daily = annual / days
        if daily < 0:
            raise DomainError(f"product {self.code}: the interest rate must not be negative")
        object.__setattr__(self, "daily_rate", daily)
        object.__setattr__(self, "annual_rate", annual)
        object.__setattr__(self, "allocation_order", check_allocation_order(self.allocation_order))
        if not isinstance(self.interest_free_days, int) or self.interest_free_days < 0:
            raise DomainError(f"product {self.code}: interest_free_days must be a whole number ≥ 0")

    @property
    def year_days(self) -> int:
        """Days in the rate's year: 360 for ``actual/360``, else 365."""
        return 360 if self.basis == "actual/360" else 365

    def rate_display(self, language: str = "zh") -> str:
        """The rate as shown to a debtor, annualised rate first (CN-RATE-01):
        ``"年化利率 18.25%（日利率 0.05%）"`` / ``"annual rate 18.25% (daily 0.05%)"``."""
        annual = (self.annual_rate * 100).quantize(Decimal("0.01"))
        daily = (self.daily_rate * 100).quantize(Decimal("0.0001")).normalize()
        daily_txt = f"{daily:f}"
        if language.startswith("en"):
            return f"annual rate {annual}% (daily {daily_txt}%)"
        return f"年化利率 {annual}%（日利率 {daily_txt}%）"

    def interest_free_until(self, statement_date: date, paid_in_full_by_due: bool) -> date | None:
        """Last day of the interest-free period for a statement, or ``None`` when it is lost
        (the statement was not paid in full by its due date: interest runs from day one)."""
        if not paid_in_full_by_due:
            return None
        return statement_date + timedelta(days=self.interest_free_days)
