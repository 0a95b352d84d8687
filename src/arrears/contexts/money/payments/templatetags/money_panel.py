"""``{% case_money_for case_id as money %}``: the case page's money panel data (promises, plans,
settlements) read through :func:`arrears.contexts.money.payments.selectors.case_money`, only for a case in
the requesting user's data scope (``None`` otherwise)."""
from __future__ import annotations

from django import template
from django.utils import timezone

from arrears.contexts.casework.facade import case_ref
from arrears.contexts.money.payments.selectors import case_money
from arrears.domain.calendar import local_date

register = template.Library()


@register.simple_tag(takes_context=True)
def case_money_for(context, case_id: int):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return None
    case = case_ref(case_id, user=user)
    if case is None:
        return None
    return case_money(case_id, case.customer_id, local_date(timezone.now(), case.timezone))
