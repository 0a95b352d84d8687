"""The strategy page (HTML): the active strategy as tables, version history, diffs between
versions, today's action counts, upload of a new version and activation.

Views only parse the request, call one selector or service and render. Who may do what is decided
in :mod:`.permissions`; every view here serves no case data (only counts), so the data scope is
``none``.
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from arrears.contexts.casework.facade import declares_scope
from arrears.contexts.casework.facade import desk_login_required
from arrears.domain.errors import RuleDataError

from . import selectors, versions
from .forms import ActivateForm, UploadForm
from .models import StrategyVersion
from .permissions import can_manage, strategy_permission


def _active(name: str = "default"):
    """The active version and its tables, or ``(None, None, errors)`` when it no longer validates."""
    try:
        sv, strategy = selectors.active_strategy(name)
    except RuleDataError as exc:
        return None, None, exc.errors
    return sv, selectors.strategy_view(sv, strategy), []


@declares_scope("none")
@desk_login_required
@strategy_permission("view")
@never_cache
@require_GET
def strategy_page(request):
    """The active strategy (or ``?version=<id>``), version history, action counts, upload form."""
    active, view, errors = _active(request.GET.get("name") or "default")
    shown = active
    wanted = selectors.get_version(request.GET.get("version")) if request.GET.get("version") else None
    if wanted is not None and wanted != active:
        try:
            shown, view, errors = wanted, selectors.strategy_view(wanted), []
        except RuleDataError as exc:
            shown, view, errors = wanted, None, exc.errors
    context = {
        "active": active, "shown": shown, "view": view, "errors": errors,
        "versions": selectors.version_rows(), "counts": selectors.action_counts(),
        "arm_results": selectors.arm_results(active.key if active else None),
        "can_manage": can_manage(request.user), "upload_form": UploadForm(),
    }
    return render(request, "strategy/page.html", context)


def _pick_pair(request, active: StrategyVersion | None):
    """``(a, b)`` from ``?a=&b=``; defaults: the active version against the newest other one."""
    a = selectors.get_version(request.GET.get("a")) if request.GET.get("a") else None
    b = selectors.get_version(request.GET.get("b")) if request.GET.get("b") else None
    rows = selectors.version_rows()
    if b is None:
        b = next((v for v in rows if active is None or v.pk != active.pk), None)
        b = selectors.get_version(b.pk) if b is not None else None
    if a is None:
        a = active if active is not None and (b is None or active.pk != b.pk) else None
        if a is None and b is not None:
            other = next((v for v in rows if v.pk != b.pk), None)
            a = selectors.get_version(other.pk) if other is not None else None
    return a, b, rows


@declares_scope("none")
@desk_login_required
@strategy_permission("view")
@never_cache
@require_GET
def strategy_diff(request):
    """The difference between two versions (htmx: only the result is swapped in)."""
    active, _view, _errors = _active()
    a, b, rows = _pick_pair(request, active)
    diff = selectors.version_diff(a, b) if a is not None and b is not None else None
    context = {
        "a": a, "b": b, "diff": diff, "versions": rows, "active": active, "can_manage": can_manage(request.user),
        "activate_form": ActivateForm(initial={"version": b.pk}) if b is not None else None,
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "strategy/_diff.html" if partial else "strategy/diff.html", context)


@declares_scope("none")
@desk_login_required
@strategy_permission("manage")
@never_cache
@require_http_methods(["GET", "POST"])
def strategy_upload(request):
    """Upload a new version: validated in full; refused with every error listed, nothing stored."""
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sv = versions.upload_version(d["source"], user=request.user, note=d.get("note") or "",
                                         source_name=d["source_name"])
        except RuleDataError as exc:
            problems = exc.errors
        except ValueError as exc:
            problems = [str(exc)]
        else:
            messages.success(request, _("已上传 %(key)s（草稿）。请核对差异后启用。") % {"key": sv.key})
            active = StrategyVersion.objects.filter(name=sv.name, status=StrategyVersion.Status.ACTIVE).first()
            query = {"b": sv.pk, **({"a": active.pk} if active is not None and active.pk != sv.pk else {})}
            return redirect(reverse("strategy:diff") + "?" + urlencode(query))
    status = 400 if request.method == "POST" else 200
    return render(request, "strategy/upload.html", {"form": form, "problems": problems}, status=status)


def _candidate(request) -> StrategyVersion | None:
    """The version to activate: ``version`` in the query or form, else the newest draft."""
    raw = request.POST.get("version") or request.GET.get("version")
    if raw:
        return selectors.get_version(raw)
    newest = (StrategyVersion.objects.filter(status=StrategyVersion.Status.DRAFT)
              .order_by("-uploaded_at", "-id").first())
    return selectors.get_version(newest.pk) if newest is not None else None


@declares_scope("none")
@desk_login_required
@strategy_permission("manage")
@never_cache
@require_http_methods(["GET", "POST"])
def strategy_activate(request):
    """GET: the confirmation (what changes against the active version); POST: activate (audited)."""
    sv = _candidate(request)
    form = ActivateForm(request.POST or None, initial={"version": sv.pk} if sv is not None else None)
    if request.method == "POST":
        if sv is None:
            return HttpResponseBadRequest(_("没有这个策略版本。"))
        if form.is_valid():
            try:
                versions.activate(sv, user=request.user, reason=form.cleaned_data.get("reason") or "")
            except RuleDataError as exc:
                messages.error(request, _("无法启用：%(errors)s") % {"errors": "; ".join(exc.errors)})
            else:
                messages.success(request, _("已启用 %(key)s。下一次日终批处理将按新版本重新决策。") % {"key": sv.key})
                return redirect("strategy:page")
    active = None
    if sv is not None:
        active = StrategyVersion.objects.filter(name=sv.name, status=StrategyVersion.Status.ACTIVE).first()
    diff = selectors.version_diff(active, sv) if active is not None and sv is not None and active.pk != sv.pk else None
    context = {"sv": sv, "active": active, "diff": diff, "activate_form": form, "can_manage": True}
    return render(request, "strategy/activate.html", context, status=400 if request.method == "POST" else 200)
