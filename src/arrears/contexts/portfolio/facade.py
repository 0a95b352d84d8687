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


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline
