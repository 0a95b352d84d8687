"""SMS pages (HTML + htmx): the template editor with a live preview, and the SMS panel on a case.

Views parse the request, call one service or selector and render. The template pages serve no
case data (scope ``none``, role-restricted in :mod:`.permissions`); the case panel serves one case
(scope ``case``: 404 and an audited denial outside the user's scope).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework.facade import declares_scope, scope_for, visible_cases
from arrears.contexts.casework.facade import desk_login_required
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.pages import mark_error, page_error

from . import selectors, services, templating
from .permissions import can_manage, template_permission

LANGUAGE_CHOICES = [("zh-hans", gettext_lazy("简体中文")), ("en", gettext_lazy("English"))]


class TemplateForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("模板代码"), max_length=48)
    language = forms.ChoiceField(label=gettext_lazy("语言"), choices=LANGUAGE_CHOICES)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=64, required=False)
    body = forms.CharField(label=gettext_lazy("正文"), widget=forms.Textarea(attrs={"rows": 5}), max_length=1000)
    variables = forms.MultipleChoiceField(label=gettext_lazy("变量"), required=False,
                                          widget=forms.CheckboxSelectMultiple,
                                          choices=[(k, k) for k in templating.VARIABLES])
    min_interval_days = forms.IntegerField(label=gettext_lazy("最短间隔天数"), min_value=0, max_value=365, initial=7)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=255, required=False)
    activate = forms.BooleanField(label=gettext_lazy("保存后立即启用"), required=False)


def _problems(exc: templating.TemplateRefused) -> list[str]:
    return [t for _c, t in exc.problems]


def _bad_form(form: forms.Form) -> ArrearsError:
    """The refusal of an invalid form (its field errors are shown next to the fields)."""
    return ArrearsError(code=ErrorCode.INVALID_INPUT, field=next(iter(form.errors), None))


@declares_scope("none")
@desk_login_required
@template_permission("view")
@never_cache
@require_http_methods(["GET", "POST"])
def template_page(request):
    """Every template version; the editor (prefilled from ``?code=&language=``); save / activate."""
    error = None
    if request.method == "POST":
        if not can_manage(request.user):
            raise PermissionDenied
        if request.POST.get("action") == "activate":
            try:
                tpl = services.activate_template(int(request.POST.get("template", "0")), actor=request.user)
            except (ValueError, services.SmsTemplate.DoesNotExist):
                raise Http404(_("没有这个模板版本。")) from None
            except templating.TemplateRefused as exc:
                messages.error(request, _("无法启用：") + exc.message() + " " + "；".join(_problems(exc)))
            else:
                messages.success(request, _("已启用 %(code)s v%(version)s。") % {"code": tpl.code, "version": tpl.version})
            return redirect(reverse("sms:templates"))
        form = TemplateForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                tpl = services.save_template(code=d["code"], language=d["language"], body=d["body"],
                                             variables=d["variables"], name=d["name"],
                                             min_interval_days=d["min_interval_days"], note=d["note"],
                                             actor=request.user, activate=d["activate"])
            except templating.TemplateRefused as exc:
                error = page_error(exc, items=_problems(exc))
            else:
                messages.success(request, _("已保存 %(code)s v%(version)s。") % {"code": tpl.code, "version": tpl.version})
                return redirect(reverse("sms:templates") + "?" + urlencode({"code": tpl.code,
                                                                              "language": tpl.language}))
    else:
        current = selectors.template_version(request.GET.get("code"), request.GET.get("language"))
        initial = {"language": "zh-hans", "min_interval_days": 7}
        if current is not None:
            initial.update(code=current.code, language=current.language, name=current.name, body=current.body,
                           variables=current.variables, min_interval_days=current.min_interval_days)
        form = TemplateForm(initial=initial)
    if error is None and request.method == "POST" and not form.is_valid():
        error = page_error(_bad_form(form))
    response = render(request, "sms/templates.html", {
        "form": form, "error": error, "versions": selectors.template_rows(),
        "can_manage": can_manage(request.user), "variables": templating.VARIABLES,
    }, status=400 if error is not None else 200)
    return mark_error(response, error) if error is not None else response


@declares_scope("none")
@desk_login_required
@template_permission("view")
@never_cache
@require_http_methods(["GET", "POST"])
def template_preview(request):
    """htmx: the composed message with typical values, its encoding, parts and every problem."""
    data = request.POST if request.method == "POST" else request.GET
    body = data.get("body", "")
    result = services.preview(body, data.getlist("variables"), data.get("language", "zh-hans")) if body else None
    return render(request, "sms/_preview.html", {"result": result})


class SendForm(forms.Form):
    template = forms.SlugField(max_length=48)


def _case(request, pk: int, action: str):
    try:
        return visible_cases(request.user).select_related("customer").get(pk=pk)
    except Exception:
        record("access.denied", actor=request.user, obj=("cases.case", pk), data={"action": action})
        raise Http404(_("没有这个案件。")) from None


@declares_scope("case")
@desk_login_required
@never_cache
@require_http_methods(["GET", "POST"])
def case_panel(request, pk: int):
    """The case's SMS: outbox with statuses, reply tasks, flagged numbers; POST sends a template
    (``action=send``) or closes a reply task (``action=task_done``)."""
    case = _case(request, pk, "sms_panel" if request.method == "GET" else "sms_send")
    refusal: ArrearsError | None = None
    if request.method == "POST":
        if scope_for(request.user).read_only:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "send":
            form = SendForm(request.POST)
            if not form.is_valid():
                refusal = ArrearsError(gettext_lazy("请选择模板。"), code=ErrorCode.INVALID_INPUT, field="template")
            else:
                try:
                    services.queue_for_case(case, form.cleaned_data["template"], actor=request.user)
                except services.SmsRefused as exc:
                    refusal = exc
                    if exc.field is None:
                        exc.field = "template"
        elif action == "task_done":
            try:
                services.complete_reply_task(int(request.POST.get("task", "0")), actor=request.user)
            except services.SmsRefused as exc:
                refusal = exc
            except (ValueError, services.SmsReplyTask.DoesNotExist):
                refusal = ArrearsError(gettext_lazy("无法完成该任务。"), code=ErrorCode.INVALID_INPUT, field="task")
        else:
            refusal = ArrearsError(gettext_lazy("未知操作。"), code=ErrorCode.INVALID_INPUT)
    record("pii.view", actor=request.user, obj=("cases.case", pk), data={"view": "sms_panel", "masked": True})
    panel = selectors.case_panel(case)
    read_only = scope_for(request.user).read_only
    template = "sms/_case_panel.html" if request.htmx else "sms/case_panel_page.html"
    error = page_error(refusal) if refusal is not None else None
    response = render(request, template, {"panel": panel, "case": case, "error": error, "read_only": read_only},
                      status=refusal.code.status if refusal is not None else 200)
    return mark_error(response, error) if error is not None else response
