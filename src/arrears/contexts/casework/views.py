"""Cases: the collections desk pages (HTML; filter changes swap the table through htmx).

Views only parse the request, call one selector and render. Every page also works as a plain
full-page load without JavaScript.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, QueryDict
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext, gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.core.pages import form_error, mark_error, page_error, render_error
from arrears.domain.money import format_amounts

from . import selectors, services
from .panels import case_panels
from .scope import declares_scope, revealable_kinds, scope_for
from .selectors import CaseFilter, CaseNotFound, InvalidCursor, amounts_of

MONEY_FIELD = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0"), "required": False}


class CaseFilterForm(forms.Form):
    """The work list's filter, read from the query string."""

    q = forms.CharField(label=_("案件号/客户号/卡账户号/手机号/身份证号"), required=False, max_length=64, strip=True)
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


def _audited_filter(params: QueryDict) -> dict:
    """The filter for the audit log: never the search term itself (it may be a phone or ID number)."""
    kept = {k: v for k, v in params.lists() if k not in ("q", "after", "before") and any(x.strip() for x in v)}
    return {"filter": kept, "searched": bool(params.get("q", "").strip())}


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


@declares_scope("case_list")
@desk_login_required
@never_cache
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    form.is_valid()
    after, before = request.GET.get("after") or None, request.GET.get("before") or None
    error = None
    try:
        page = selectors.case_list(request.user, form.to_filter(request.user), after=after, before=before)
    except InvalidCursor as exc:  # an altered or stale page link: the first page, and say so
        error = page_error(exc)
        page = selectors.case_list(request.user, form.to_filter(request.user))
    record("pii.view", actor=request.user, data={
        "view": "case_list", "masked": True, "cases": [r.id for r in page.rows], **_audited_filter(request.GET)})
    current_query = _query(request.GET, cursor=True)
    this_url = reverse("cases:list") + (f"?{current_query}" if current_query else "")
    context = {
        "form": form,
        "page": page,
        "filter_query": _query(request.GET, cursor=False),
        "current_query": current_query,
        "this_url": this_url,
        "error": error,
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, "cases/_table.html" if partial else "cases/list.html", context)
    if partial:
        push_url(response, this_url)  # the address bar shows the filter without empty fields
    patch_vary_headers(response, ("HX-Request",))
    return response


def _not_found(request, pk, action: str):
    """Answer 404 for a case outside the user's scope (or missing), and audit the attempt."""
    record("access.denied", actor=request.user, obj=("cases.case", pk), data={"action": action})
    return Http404(_("没有这个案件。"))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("备注"), max_length=services.NOTE_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _detail_page(request, pk: int, *, note_form: NoteForm | None = None, status: int = 200):
    try:
        case = selectors.case_detail(request.user, pk)
    except CaseNotFound:
        raise _not_found(request, pk, "view") from None
    record("pii.view", actor=request.user, obj=("cases.case", pk), data={"view": "case_page", "masked": True})
    back = request.GET.get("back", "")
    if note_form is None and not scope_for(request.user).read_only:
        note_form = NoteForm()
    context = {"case": case, "back_query": back if _is_query(back) else "",
               "revealable": revealable_kinds(request.user, pk, timezone.localdate()),
               "note_form": note_form,
               # panels other contexts registered (the contact gate's verdicts, the strategy decision …)
               **case_panels(request, case.id)}
    response = render(request, "cases/detail.html", context, status=status)
    return mark_error(response, "invalid_input") if status >= 400 else response


@declares_scope("case")
@desk_login_required
@never_cache
@require_GET
def case_detail(request, pk: int):
    return _detail_page(request, pk)


@declares_scope("case")
@desk_login_required
@never_cache
def add_note(request, pk: int):
    """An agent's note on the case (a ``note`` timeline event, the one write); shown in the
    contact history and the timeline. A case outside the user's scope answers 404 (audited)
    whatever the method; then only POST."""
    from django.http import HttpResponseNotAllowed

    from .scope import visible_cases

    if not visible_cases(request.user).filter(pk=pk).exists():
        raise _not_found(request, pk, "note")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_case_note(request.user, pk, form.cleaned_data["text"], source="case_page")
        except CaseNotFound:
            raise _not_found(request, pk, "note") from None
        except services.NoteRefused as exc:
            form_error(form, exc)
        else:
            messages.success(request, gettext("备注已保存。"))
            return redirect(reverse("cases:detail", args=[pk]) + "#history")
    return _detail_page(request, pk, note_form=form, status=400)


@declares_scope("case")
@desk_login_required
@never_cache
@require_POST
def reveal(request, pk: int):
    """htmx: one full personal value, for a role allowed to see it, with a reason (audited)."""
    target, reason = request.POST.get("target", ""), request.POST.get("reason", "")
    try:
        value = services.reveal_personal_value(request.user, pk, target, reason)
    except CaseNotFound:
        raise Http404(_("没有这个案件。")) from None  # the service audited the attempt
    except services.RevealRefused as e:
        return render_error(request, "cases/_reveal.html", {"target": target, "pk": pk}, e)
    return render(request, "cases/_reveal.html", {"value": value, "target": target, "pk": pk})


@declares_scope("case_list")
@desk_login_required
@never_cache
@require_GET
def case_export(request):
    """The filtered work list as CSV (masked; in scope only; at most ``EXPORT_CAP`` rows; audited).
    Amounts are written as on the desk, in the active language, every currency side by side
    (``CNY 1,200.00, USD 80.00``); the currency column lists the case's currencies."""
    form = CaseFilterForm(request.GET or None)
    form.is_valid()
    rows = selectors.case_export_rows(request.user, form.to_filter(request.user))
    record("pii.view", actor=request.user, data={
        "view": "case_export", "rows": len(rows), "masked": True, "cases": [r.id for r in rows],
        **_audited_filter(request.GET)})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    response.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese text correctly
    writer = csv.writer(response)
    writer.writerow([_("案件号"), _("客户号"), _("姓名"), _("账龄"), _("逾期天数"), _("欠款余额"), _("逾期金额"),
                     _("币种"), _("状态"), _("立案日"), _("催收员")])
    language = get_language() or "zh-hans"
    for r in rows:
        # amounts as the desk shows them: every currency side by side, never summed (one formatter)
        writer.writerow([r.number, r.customer_no, r.customer_name, r.bucket, r.max_dpd,
                         format_amounts(amounts_of(r.amounts, "balance"), language),
                         format_amounts(amounts_of(r.amounts, "overdue"), language),
                         ", ".join(a.currency for a in r.amounts), r.status_label, r.opened_on.isoformat(),
                         r.assigned_to])
    return response


def _is_query(value: str) -> bool:
    # The list's query string carried to the case page for the "back to list" link; never a URL.
    return bool(value) and "//" not in value and ":" not in value and len(value) < 2000
