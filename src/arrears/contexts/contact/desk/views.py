"""The phone desk pages (server-rendered; htmx refreshes the queue preview). Thin: parse, call one
service or selector, render. Every page also works as a plain form post without JavaScript.

* ``/desk/``: my queue (numbers, preview) and the "next case" button (POST);
* ``/desk/cases/<pk>/``: the call workspace; ``…/dial/``, ``…/outcome/``, ``…/release/`` (POST);
* ``/desk/board/``: the supervisor board; ``/desk/reassign/``: give a case to another agent.
"""
from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework.facade import declares_scope, scope_for, visible_cases
from arrears.contexts.casework.facade import CaseNotFound
from arrears.contexts.casework.facade import add_case_note, desk_login_required
from arrears.core.errors import ArrearsError
from arrears.core.pages import form_error, mark_error, page_error

from . import selectors, services
from . import vocabulary as V
from .apis import has_role
from .selectors import BOARD_ROLES
from .services import AGENT_ROLES


def _message(exc: ArrearsError) -> str:
    """What the agent reads for a refused operation: the error's message in the page's language
    (the service's own text is English, for logs and the API)."""
    return exc.message()


def _roles(allowed):
    def deco(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.arrears_roles = frozenset(allowed)
        return wrapped

    return deco


def case_route(methods: tuple[str, ...]):
    """Login, then the case's data scope (404, audited), then the method (405)."""

    def deco(view):
        @wraps(view)
        def wrapped(request, pk: int, *args, **kwargs):
            if not visible_cases(request.user).filter(pk=pk).exists():
                record("access.denied", actor=request.user, obj=("cases.case", pk),
                       data={"action": f"desk:{view.__name__}"})
                raise Http404(_("没有这个案件。"))
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, pk, *args, **kwargs)

        return declares_scope("case")(desk_login_required(never_cache(wrapped)))

    return deco


# ---- my queue ---------------------------------------------------------------------------------
@declares_scope("none")
@desk_login_required
@never_cache
@_roles(AGENT_ROLES)
def home(request):
    if request.method == "POST":
        try:
            got = services.get_next(request.user)
        except services.DeskError as exc:
            messages.error(request, _message(exc))
            return redirect("desk:home")
        for d in got.deferred:
            messages.info(request, _t("案件 C%(case)s 现在不可拨打，已顺延至 %(until)s。") % {
                "case": d["case_id"], "until": timezone.localtime(d["until"]).strftime("%Y-%m-%d %H:%M")})
        if got.case_id is None:
            messages.info(request, _t("现在没有可拨打的案件。"))
            return redirect("desk:home")
        return redirect("desk:workspace", pk=got.case_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    now = timezone.now()
    context = {"status": selectors.queue_status(request.user, now), "rows": selectors.queue_preview(request.user, now),
               "can_board": has_role(request.user, BOARD_ROLES)}
    if request.htmx and request.GET.get("fragment") == "preview":
        return render(request, "desk/_queue.html", context)
    return render(request, "desk/home.html", context)


# ---- the workspace ------------------------------------------------------------------------------
class OutcomeForm(forms.Form):
    call_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action_code = forms.ChoiceField(label=_("行动码"))
    result_code = forms.ChoiceField(label=_("结果码"))
    notes = forms.CharField(label=_("备注"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    promise_amount = forms.DecimalField(label=_("承诺金额"), required=False, max_digits=16, decimal_places=2,
                                        min_value=0)
    promise_date = forms.DateField(label=_("承诺还款日"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    callback_at = forms.DateTimeField(label=_("约定回电时间（客户当地时间）"), required=False,
                                      input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                 format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args, party: str = "debtor", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action_code"].choices = [(a.code, a.label) for a in V.ACTION_CODES.values() if party in a.parties]
        allowed = {c for c, _l in self.fields["action_code"].choices}
        self.fields["result_code"].choices = [(r.code, r.label) for r in V.RESULT_CODES.values()
                                              if r.actions & allowed]


def _workspace(request, pk: int, *, status: int = 200, **extra):
    try:
        w = selectors.workspace(request.user, pk, timezone.now())
    except CaseNotFound:
        raise Http404(_("没有这个案件。")) from None
    record("pii.view", actor=request.user, obj=("cases.case", pk), data={"view": "desk_workspace", "masked": True})
    form = extra.pop("form", None)
    if form is None and w.open_call is not None:
        form = OutcomeForm(initial={"call_id": w.open_call.pk}, party=w.open_call.party)
    outcome_call = w.open_call.pk if w.open_call else (form["call_id"].value() if form is not None else "")
    can_work = has_role(request.user, AGENT_ROLES) and not scope_for(request.user).read_only
    note_form = extra.pop("note_form", None) or (NoteForm() if not scope_for(request.user).read_only else None)
    context = {"w": w, "case": w.case, "form": form, "outcome_call": outcome_call, "can_work": can_work,
               "note_form": note_form, "purposes": V.THIRD_PARTY_PURPOSES.items(), **extra}
    response = render(request, "desk/workspace.html", context, status=status)
    failure = extra.get("error") or extra.get("refusal") or (form if form is not None and form.errors else None) \
        or (note_form if note_form is not None and note_form.errors else None)
    if failure is not None:
        mark_error(response, failure.code if not isinstance(failure, forms.Form) else "invalid_input")
    return response


@case_route(("GET",))
def workspace(request, pk: int):
    return _workspace(request, pk)


@case_route(("POST",))
def dial(request, pk: int):
    if not has_role(request.user, AGENT_ROLES):
        raise PermissionDenied
    try:
        out = services.dial(request.user, pk, request.POST.get("contact_id"), purpose=request.POST.get("purpose") or None)
    except services.DialRefused as exc:
        return _workspace(request, pk, status=exc.code.status, refusal=exc,
                          refused_contact=request.POST.get("contact_id"))
    except services.DeskError as exc:
        return _workspace(request, pk, status=exc.code.status, error=page_error(exc))
    messages.success(request, _t("已拨号（通话 %(call)s）。通话结束后请登记结果。") % {"call": out.call_id})
    return redirect("desk:workspace", pk=pk)


@case_route(("POST",))
def outcome(request, pk: int):
    if not has_role(request.user, AGENT_ROLES):
        raise PermissionDenied
    from .models import Call

    call = Call.objects.filter(pk=request.POST.get("call_id") or 0, case_id=pk).first() \
        if (request.POST.get("call_id") or "").isdigit() else None
    form = OutcomeForm(request.POST, party=call.party if call else "debtor")
    if not form.is_valid():
        return _workspace(request, pk, status=400, form=form)
    d = form.cleaned_data
    cb = d.get("callback_at")
    inp = services.OutcomeInput(
        call_id=d["call_id"], action_code=d["action_code"], result_code=d["result_code"], notes=d.get("notes") or "",
        promise_amount=d.get("promise_amount"), promise_date=d.get("promise_date"),
        callback_at=timezone.make_naive(cb) if cb is not None and timezone.is_aware(cb) else cb)
    try:
        res = services.post_outcome(request.user, pk, inp)
    except services.CallbackRefused as exc:
        form_error(form, exc)  # the message names the gate's reasons in the page's language
        return _workspace(request, pk, status=exc.code.status, form=form, callback_next=exc.next_allowed_at)
    except (services.DeskError, V.VocabularyError) as exc:
        form_error(form, exc)
        return _workspace(request, pk, status=exc.code.status, form=form)
    label = V.RESULT_CODES[res.result_code].label
    messages.success(request, _t("已登记通话结果：%(result)s。") % {"result": label})
    if res.promise_id:
        messages.success(request, _t("已记录承诺还款。"))
    return redirect("desk:home")


class NoteForm(forms.Form):
    text = forms.CharField(label=_("备注"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


@case_route(("POST",))
def note(request, pk: int):
    """An agent's note on the case from the workspace (the casework's one timeline write)."""
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _workspace(request, pk, status=400, note_form=form)
    try:
        add_case_note(request.user, pk, form.cleaned_data["text"], source="desk")
    except ArrearsError as exc:
        form_error(form, exc)
        return _workspace(request, pk, status=exc.code.status, note_form=form)
    messages.success(request, _t("备注已保存。"))
    return redirect(reverse("desk:workspace", args=[pk]) + "#history")


@case_route(("POST",))
def release(request, pk: int):
    if not has_role(request.user, AGENT_ROLES):
        raise PermissionDenied
    try:
        services.release(request.user, pk)
    except services.DeskError as exc:
        messages.error(request, _message(exc))
        return redirect("desk:workspace", pk=pk)
    messages.info(request, _t("案件已放回队列。"))
    return redirect("desk:home")


# ---- supervision --------------------------------------------------------------------------------
@declares_scope("none")
@desk_login_required
@never_cache
@_roles(BOARD_ROLES)
def board(request):
    b = selectors.board(request.user)
    return render(request, "desk/board.html", {"board": b, "can_reassign": has_role(
        request.user, {"team_leader", "administrator"}) and not scope_for(request.user).read_only})


class ReassignForm(forms.Form):
    case = forms.CharField(label=_("案件号"), max_length=20)
    agent = forms.ChoiceField(label=_("催收员"))
    reason = forms.CharField(label=_("原因"), required=False, max_length=255)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(a.pk, a.get_username()) for a in
                                        selectors.board_agents(user).order_by("username")]

    def clean_case(self):
        raw = self.cleaned_data["case"].strip()
        number = raw[1:] if raw[:1] in ("C", "c") else raw
        if not number.isdigit():
            raise forms.ValidationError(_("请输入案件号，例如 C123。"))
        return int(number)


@declares_scope("none")
@desk_login_required
@never_cache
@_roles({"team_leader", "administrator"})
def reassign(request):
    form = ReassignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.reassign(request.user, d["case"], int(d["agent"]), reason=d.get("reason") or "")
        except CaseNotFound:
            record("access.denied", actor=request.user, obj=("cases.case", d["case"]), data={"action": "desk_reassign"})
            form.add_error("case", _("没有这个案件。"))
        except services.DeskError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _t("案件 C%(case)s 已改派。") % {"case": d["case"]})
            return redirect(reverse("desk:board"))
    response = render(request, "desk/reassign.html", {"form": form}, status=400 if form.errors else 200)
    return mark_error(response, "invalid_input") if form.errors else response
