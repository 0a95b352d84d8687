"""Loader of card product terms: ``rules/products/<CODE>.yaml`` → :class:`~arrears.domain.products.ProductTerms`.

Each file is validated against ``schemas/product.schema.json`` with every error collected, then the
domain object's own checks run (exactly one rate, a complete allocation order, penalty bounds);
all problems are raised together as one :class:`~arrears.domain.errors.RuleDataError` naming the
file. Rates are quoted decimal strings in YAML, so no float ever reaches the money code.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.errors import DomainError, RuleDataError
from arrears.domain.products import MinimumPaymentTerms, PenaltyTerms, ProductTerms

from . import RULES_DIR, load_rule_file

__all__ = ["PRODUCTS_DIR", "UnknownProduct", "load_product_file", "load_product", "product_codes"]

PRODUCTS_DIR = RULES_DIR / "products"


class UnknownProduct(ArrearsError, LookupError):
    """No terms file for a product code."""

    code = ErrorCode.UNKNOWN_PRODUCT


def _terms(data: dict[str, Any]) -> ProductTerms:
    i, p, m = data["interest"], data["penalty"], data["minimum_payment"]
    return ProductTerms(
        code=data["code"],
        version=data["version"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        currency=data["currency"],
        basis=i["basis"],
        interest_method=i["method"],
        interest_free_days=i["interest_free_days"],
        daily_rate=i.get("daily_rate"),
        annual_rate=i.get("annual_rate"),
        penalty=PenaltyTerms(rate=p["rate"], minimum=p["minimum"], maximum=p.get("maximum")),
        minimum_payment=MinimumPaymentTerms(principal_rate=m["principal_rate"], floor=m["floor"]),
        allocation_order=tuple(data["allocation_order"]),
        source=data["source"],
    )


def load_product_file(path: str | Path) -> ProductTerms:
    """Load and validate one product file. Raises :class:`RuleDataError` (source = the path) listing
    every schema violation, or the domain check that refused the terms, or a file name that differs
    from the ``code`` inside it."""
    path = Path(path)
    data, errors = load_rule_file(path, "product.schema.json")
    if errors:
        raise RuleDataError(str(path), errors)
    problems: list[str] = []
    if path.stem != data["code"]:
        problems.append(f"code: {data['code']!r} differs from the file name {path.stem!r}")
    terms = None
    try:
        terms = _terms(data)
    except DomainError as exc:
        problems.append(str(exc))
    if problems or terms is None:
        raise RuleDataError(str(path), problems)
    return terms


@lru_cache(maxsize=None)
def _load_cached(directory: str, code: str) -> ProductTerms:
    path = Path(directory) / f"{code}.yaml"
    if not path.is_file():
        raise UnknownProduct(f"no product terms for product code {code!r} (looked for {path})")
    return load_product_file(path)


def load_product(code: str, directory: str | Path | None = None) -> ProductTerms:
    """The terms of product ``code`` (cached). Raises :class:`UnknownProduct` when there is no
    ``<code>.yaml``, :class:`RuleDataError` when the file is invalid."""
    if not isinstance(code, str) or not code or "/" in code or code.startswith("."):
        raise UnknownProduct(f"invalid product code {code!r}")
    return _load_cached(str(directory or PRODUCTS_DIR), code)


def product_codes(directory: str | Path | None = None) -> list[str]:
    """Codes of all product files, sorted."""
    return sorted(p.stem for p in Path(directory or PRODUCTS_DIR).glob("*.yaml"))
