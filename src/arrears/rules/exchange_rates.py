"""Recorded exchange rates (``rules/exchange_rates.yaml``): each dated and sourced, for comparing
an amount with limits in another currency (the waiver authority is in CNY). A currency without a
rate is refused by :func:`arrears.domain.settlements.amount_in`, never converted at a guess."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from arrears.domain.errors import DomainError, RuleDataError
from arrears.domain.settlements import ExchangeRate

from . import RULES_DIR, load_rule_file

RATES_FILE = RULES_DIR / "exchange_rates.yaml"


def load_exchange_rates(path: str | Path = RATES_FILE) -> tuple[ExchangeRate, ...]:
    """Read and validate a rates file; :class:`RuleDataError` lists every problem (schema, a bad
    date, a pair given twice for one day, a rate from a currency to itself)."""
    data, errors = load_rule_file(path, "exchange_rates.schema.json")
    rates, seen = [], set()
    for i, row in enumerate((data or {}).get("rates") or [] if not errors else []):
        where = f"rates[{i}]"
        try:
            raw = row["as_of"]
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            rate = ExchangeRate(row["from"], row["to"], row["rate"], day, row["source"])
        except (ValueError, DomainError) as exc:
            errors.append(f"{where}: {exc}")
            continue
        if rate.from_currency == rate.to_currency:
            errors.append(f"{where}: a rate from {rate.from_currency} to itself")
        key = (rate.from_currency, rate.to_currency, rate.as_of)
        if key in seen:
            errors.append(f"{where}: {rate.from_currency}→{rate.to_currency} on {rate.as_of} is given twice")
        seen.add(key)
        rates.append(rate)
    if errors:
        raise RuleDataError(str(path), errors)
    return tuple(rates)


@lru_cache(maxsize=1)
def exchange_rates() -> tuple[ExchangeRate, ...]:
    """The packaged rates, read once per process."""
    return load_exchange_rates()
