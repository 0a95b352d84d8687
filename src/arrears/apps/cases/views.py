"""Cases: the collections desk pages (HTML; filter changes swap the table through htmx).

Views only parse the request, call one selector and render. Every page also works as a plain
full-page load without JavaScript.
"""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import selectors
from .selectors import CaseFilter, CaseNotFound, InvalidCursor

MONEY_FIELD = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0"), "required": False}


class CaseFilterForm(forms.Form):
    """The work list's filter, read from the query string."""

    q = forms.CharField(label=_("案件号/客户号/卡账户号"), required=False, max_length=64, strip=True)
    bucket = forms.MultipleChoiceField(label=_("账龄"), required=False, widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(label=_("状态"), required=False, widget=forms.CheckboxSelectMultiple)
    dpd_min = forms.IntegerField(label=_("逾期天数从"), required=False, min_value=0)
    dpd_max = forms.IntegerField(label=_("逾期天数至"), required=False, min_value=0)
    balance_min = forms.DecimalField(label=_("欠款余额从"), **MONEY_FIELD)
    balance_max = forms.DecimalField(label=_("欠款余额至"), **MONEY_FIELD)
    mine = forms.BooleanField(label=_("只看分给我的案件"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bucket"].choices = selectors.bucket_choices()
        self.fields["status"].choices = selectors.status_choices()

    def clean(self):
        data = super().clean()
        for low, high in (("dpd_min", "dpd_max"), ("balance_min", "balance_max")):
            lo, hi = data.get(low), data.get(high)
            if lo is not None and hi is not None and lo > hi:
                self.add_error(high, _("上限不能小于下限。"))
        return data

    def to_filter(self, user) -> CaseFilter:
        """The filter from the fields that are valid (an invalid field is ignored and reported)."""
        d = self.cleaned_data if self.is_bound else {}
        return CaseFilter(
            buckets=tuple(d.get("bucket") or ()),
            statuses=tuple(d.get("status") or ()),
            dpd_min=d.get("dpd_min"),
            dpd_max=d.get("dpd_max"),
            balance_min=d.get("balance_min"),
            balance_max=d.get("balance_max"),
            assigned_to_id=user.pk if d.get("mine") else None,
            q=d.get("q") or "",
        )


def _filter_query(params: QueryDict) -> str:
    """The query string without the cursor parameters, for building page links."""
    kept = params.copy()
    for key in ("after", "before"):
        kept.pop(key, None)
    return kept.urlencode()


@login_required
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    form.is_valid()
    after, before = request.GET.get("after") or None, request.GET.get("before") or None
    try:
        page = selectors.case_list(form.to_filter(request.user), after=after, before=before)
    except InvalidCursor:
        page = selectors.case_list(form.to_filter(request.user))
    context = {
        "form": form,
        "page": page,
        "filter_query": _filter_query(request.GET),
        "current_query": request.GET.urlencode(),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, "cases/_table.html" if partial else "cases/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def case_detail(request, pk: int):
    try:
        case = selectors.case_detail(pk)
    except CaseNotFound:
        raise Http404(_("没有这个案件。")) from None
    back = request.GET.get("back", "")
    return render(request, "cases/detail.html", {"case": case, "back_query": back if _is_query(back) else ""})


def _is_query(value: str) -> bool:
    # The list's query string carried to the case page for the "back to list" link; never a URL.
    return bool(value) and "//" not in value and ":" not in value and len(value) < 2000
