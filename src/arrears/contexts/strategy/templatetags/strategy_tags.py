"""``{% load strategy_tags %}``: ``{% can_view_strategy user as show %}`` for the desk's navigation."""
from django import template

from arrears.contexts.strategy.permissions import can_view

register = template.Library()


@register.simple_tag
def can_view_strategy(user) -> bool:
    return can_view(user)
