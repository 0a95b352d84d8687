"""The payment allocation waterfall: one payment across fees, 违约金, interest and principal.

A payment is applied to the parts of what is owed (:class:`Components`) in the product's
**allocation order** (a permutation of :data:`~arrears.domain.products.COMPONENTS`), each part
paid in full before the next gets anything; whatever is left after everything owed is paid is a
**credit** (overpayment, 溢缴款) kept on the account, never dropped.

Source: reported fault R03 (costs → interest → principal, German civil code §367 order; another
regime may demand principal first). Example: owed principal 100.00, fees 5.00, interest 0.25; pay
50.00 with order fees → interest → principal → fees 5.00, interest 0.25, principal 44.75 paid,
principal 55.25 left. With principal first: principal 50.00 paid, 55.25 left (5.00 + 0.25 + 50.00).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import DomainError
from .money import ZERO, money
from .products import COMPONENTS, check_allocation_order

__all__ = ["Components", "Allocation", "allocate"]


@dataclass(frozen=True, slots=True)
class Components:
    """Amounts per part of a balance (Decimal, two decimals, each ≥ 0): ``principal`` 本金,
    ``interest`` 利息, ``penalty`` 违约金, ``fees`` 费用."""

    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO
    fees: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = money(getattr(self, name))
            if value < 0:
                raise DomainError(f"{name} must not be negative, got {value}")
            object.__setattr__(self, name, value)

    @property
    def total(self) -> Decimal:
        """Sum of all parts."""
        return self.principal + self.interest + self.penalty + self.fees

    def as_dict(self) -> dict[str, str]:
        """``{"principal": "100.00", …}`` (strings: exact in JSON)."""
        return {name: str(getattr(self, name)) for name in COMPONENTS}

    def plus(self, **parts: Decimal) -> Components:
        """A copy with the given parts added (e.g. ``plus(interest=Decimal("0.41"))``)."""
        return Components(**{n: getattr(self, n) + parts.get(n, ZERO) for n in COMPONENTS})

    def minus(self, other: Components) -> Components:
        """Part-by-part difference; :class:`DomainError` if any part would go negative."""
        return Components(**{n: getattr(self, n) - getattr(other, n) for n in COMPONENTS})


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was applied: ``applied`` per part, ``remaining`` owed afterwards,
    ``credit`` the overpayment left over (Decimal ≥ 0), ``order`` the order used (stored on the
    payment for audit, R03). ``applied.total + credit == amount``."""

    amount: Decimal
    order: tuple[str, ...]
    applied: Components
    remaining: Components
    credit: Decimal


def allocate(amount: Decimal | int | str, owed: Components, order: tuple[str, ...] | list[str]) -> Allocation:
    """Apply ``amount`` (Decimal > 0, yuan) to ``owed`` part by part in ``order``.

    Raises :class:`DomainError` for a non-positive amount or an order that is not a permutation of
    :data:`~arrears.domain.products.COMPONENTS`; ``TypeError`` for a float amount.
    """
    pay = money(amount)
    if pay <= 0:
        raise DomainError(f"a payment must be positive, got {pay}")
    order = check_allocation_order(order)
    left = pay
    applied: dict[str, Decimal] = {}
    for name in order:
        part = min(getattr(owed, name), left)
        applied[name] = part
        left -= part
    paid = Components(**applied)
    return Allocation(amount=pay, order=order, applied=paid, remaining=owed.minus(paid), credit=left)
