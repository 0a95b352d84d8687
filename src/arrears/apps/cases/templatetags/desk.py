"""Template filters of the collections desk: ``{% load desk %}``.

- ``{{ amount|money:currency }}`` → ``CNY 12,345.67``: two decimals (half up), groups of three
  digits in every language (Django's zh-hans format would group by four and without commas,
  which is not how amounts are written on Chinese bank statements).
- ``{{ value|dash }}`` → the value, or an en dash for an empty one.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

CENT = Decimal("0.01")


def format_money(amount, currency: str = "") -> str:
    if amount is None or amount == "":
        return "–"
    try:
        value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(amount)
    text = f"{value:,.2f}"
    return f"{currency} {text}" if currency else text


@register.filter
def money(amount, currency: str = "") -> str:
    return format_money(amount, currency)


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
    from arrears.apps.users.services import user_roles

    return ", ".join(r.label for r in user_roles(user))


@register.simple_tag
def can_open(user, url_name: str) -> bool:
    """Whether ``user`` may open the page named ``url_name`` (no arguments): pages restricted to
    some roles declare them as ``view.arrears_roles`` (strategy, field, desk pages); the navigation
    shows a link only to those roles. Unrestricted pages: any signed-in user."""
    from django.urls import resolve, reverse

    from arrears.apps.users.services import user_roles

    if not getattr(user, "is_authenticated", False):
        return False
    allowed = getattr(resolve(reverse(url_name)).func, "arrears_roles", None)
    return allowed is None or bool({r.code for r in user_roles(user)} & set(allowed))
