"""Cases: the collections desk pages (HTML; filter changes swap the table through htmx).

Views only parse the request, call one selector and render. Every page also works as a plain
full-page load without JavaScript.
"""
from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect, push_url

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


def desk_login_required(view):
    """``login_required`` that, for an htmx request of a logged-out user (session expired), makes
    the browser go to the login page instead of swapping the login form into the table."""
    protected = login_required(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated and request.htmx:
            current = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(current, settings.LOGIN_URL)["Location"])
        return protected(request, *args, **kwargs)

    return wrapped


def _query(params: QueryDict, *, cursor: bool) -> str:
    """The list's query string without empty fields (and without the page cursor unless asked)."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        if not cursor and key in ("after", "before"):
            continue
        values = [v for v in values if v.strip()]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


@desk_login_required
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    form.is_valid()
    after, before = request.GET.get("after") or None, request.GET.get("before") or None
    try:
        page = selectors.case_list(form.to_filter(request.user), after=after, before=before)
    except InvalidCursor:
        page = selectors.case_list(form.to_filter(request.user))
    current_query = _query(request.GET, cursor=True)
    this_url = reverse("cases:list") + (f"?{current_query}" if current_query else "")
    context = {
        "form": form,
        "page": page,
        "filter_query": _query(request.GET, cursor=False),
        "current_query": current_query,
        "this_url": this_url,
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, "cases/_table.html" if partial else "cases/list.html", context)
    if partial:
        push_url(response, this_url)  # the address bar shows the filter without empty fields
    patch_vary_headers(response, ("HX-Request",))
    return response


@desk_login_required
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
