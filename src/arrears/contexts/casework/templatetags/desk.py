"""Template filters of the collections desk: ``{% load desk %}``.

- ``{{ amount|money:currency }}`` → ``12,345.67元`` / ``CNY 12,345.67`` in the active language:
  :func:`arrears.domain.money.format_money`, the one money formatter (groups of three digits in
  every language: Django's zh-hans format would group by four and without commas, which is not
  how amounts are written on Chinese bank statements). An empty amount shows as an en dash.
- ``{{ case.amounts|amounts:"overdue" }}`` (a list of per-currency figures, e.g.
  :class:`arrears.contexts.casework.selectors.CurrencyAmounts`, and the figure to show) or
  ``{{ totals|amounts }}`` (a dict currency → amount) → ``100.00元、50.00 USD`` /
  ``CNY 100.00, USD 50.00``: every currency side by side, never added up
  (:func:`arrears.domain.money.format_amounts`); nothing at all shows as an en dash.
- ``{{ value|dash }}`` → the value, or an en dash for an empty one.
"""
from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.utils.translation import get_language

from arrears.domain.money import format_amounts, format_money

register = template.Library()


def _language() -> str:
    return get_language() or "zh-hans"


@register.filter
def money(amount, currency: str) -> str:
    if amount is None or amount == "":
        return "–"
    return format_money(amount, currency, _language())


@register.filter
def amounts(value, figure: str = "") -> str:
    if not value:
        return "–"
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = [(row.currency, getattr(row, figure)) for row in value]
    return format_amounts(pairs, _language()) or "–"


@register.filter
def dash(value):
    return "–" if value in (None, "") else value


@register.filter
def thousands(value) -> str:
    """An integer with groups of three digits: ``10000`` → ``10,000``."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.simple_tag
def role_labels(user) -> str:
    """The user's roles in the active language, joined (``催收员``; ``Collector, Team leader``)."""
    from arrears.contexts.org.facade import user_role_labels

    return ", ".join(user_role_labels(user))


@register.simple_tag
def can_open(user, url_name: str) -> bool:
    """Whether ``user`` may open the page named ``url_name`` (no arguments): pages restricted to
    some roles declare them as ``view.arrears_roles`` (strategy, field, desk pages); the navigation
    shows a link only to those roles. Unrestricted pages: any signed-in user."""
    from django.urls import resolve, reverse

    from arrears.contexts.org.facade import user_role_codes

    if not getattr(user, "is_authenticated", False):
        return False
    allowed = getattr(resolve(reverse(url_name)).func, "arrears_roles", None)
    return allowed is None or bool(user_role_codes(user) & set(allowed))
