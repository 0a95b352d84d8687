"""JSON API of the phone desk (DRF, OpenAPI by drf-spectacular). Thin: parse, call one service or
selector, serialise. A case outside the caller's data scope answers 404 (audited ``access.denied``)
before anything else — also for a method the route does not serve.

=======================================  ===========================================================
``GET  /api/desk/next/``                 the caller's queue in numbers (held case, ready, callbacks)
``POST /api/desk/next/``                 take the next case → ``{"case_id": …}`` (atomic; no two
                                         agents ever get the same case)
``GET  /api/desk/queue/``                preview of the next cases in get-next order
``GET  /api/desk/vocabulary/``           action codes, result codes, number statuses, purposes
``GET  /api/desk/board/``                supervisor board (team leader, supervisor, administrator)
``GET  /api/desk/cases/{pk}/``           the call workspace (masked; numbers with the gate's answer)
``POST /api/desk/cases/{pk}/dial/``      dial a number through the gate and the dialer adapter
``POST /api/desk/cases/{pk}/outcome/``   post a call's outcome (promise, callback, recording …)
``POST /api/desk/cases/{pk}/release/``   give a held case back to the queue
``POST /api/desk/cases/{pk}/reassign/``  give a case to another agent (team leader, administrator)
=======================================  ===========================================================

Errors answer the one shape ``{"code", "message", "field", "details"}`` (:mod:`arrears.core.api`),
the status following from the code: e.g. 400 ``bad_contact``, 403 ``dial_refused`` (the gate's
``reasons`` and ``next_allowed_at`` in ``details``), 404 ``not_found``, 409 ``call_open``.
"""
from __future__ import annotations

from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework.facade import scope_for, visible_cases
from arrears.contexts.casework.facade import CurrencyAmountsSerializer
from arrears.contexts.casework.facade import CaseNotFound
from arrears.core.api import ErrorSerializer

from . import selectors, services
from . import vocabulary as V
from .selectors import BOARD_ROLES
from .services import AGENT_ROLES


def has_role(user, roles) -> bool:
    return bool(user.is_superuser or (scope_for(user).roles & set(roles)))


class CaseInScope(BasePermission):
    """The URL's case (``pk``) must be in the caller's data scope, else 404 (audited)."""

    def has_permission(self, request, view) -> bool:
        pk = view.kwargs.get("pk")
        if pk is None:
            return True
        if not visible_cases(request.user).filter(pk=pk).exists():
            record("access.denied", actor=request.user, obj=("cases.case", pk),
                   data={"action": f"desk_api:{view.__class__.__name__}"})
            raise NotFound("no such case")
        return True


class RoleRequired(BasePermission):
    def has_permission(self, request, view) -> bool:
        roles = getattr(view, "roles", None)
        if roles is not None and not has_role(request.user, roles):
            raise PermissionDenied("your role may not use this")
        return True


@method_decorator(never_cache, name="dispatch")
class DeskAPIView(APIView):
    permission_classes = [IsAuthenticated, CaseInScope, RoleRequired]
    roles: frozenset[str] | None = None


# ---- queue ------------------------------------------------------------------------------------
class QueueStatusSerializer(serializers.Serializer):
    held_case_id = serializers.IntegerField(allow_null=True, help_text="the case you hold (take it again)")
    open_call_id = serializers.IntegerField(allow_null=True, help_text="your call without an outcome")
    own_ready = serializers.IntegerField(help_text="your allocated cases callable now")
    pool_ready = serializers.IntegerField(help_text="your team's unallocated cases callable now")
    callbacks_due = serializers.IntegerField()
    waiting_later = serializers.IntegerField(help_text="your cases waiting for a later time")


class NextSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(allow_null=True, help_text="null: nothing to call now")
    resumed = serializers.BooleanField(help_text="you already held this case")
    deferred = serializers.ListField(child=serializers.DictField(), help_text="cases the gate deferred")


class NextAPI(DeskAPIView):
    """Take the next case (POST) or see your queue in numbers (GET)."""

    arrears_scope = "none"
    roles = AGENT_ROLES

    @extend_schema(responses=QueueStatusSerializer, summary="Your queue in numbers")
    def get(self, request):
        return Response(QueueStatusSerializer(selectors.queue_status(request.user, timezone.now())).data)

    @extend_schema(request=None, responses={200: NextSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
                   summary="Take the next case (atomic)")
    def post(self, request):
        got = services.get_next(request.user)
        return Response({"case_id": got.case_id, "resumed": got.resumed,
                         "deferred": [{"case_id": d["case_id"], "until": d["until"].isoformat(),
                                       "rule_ids": sorted({r["rule_id"] for r in d["reasons"]})}
                                      for d in got.deferred]})


class QueueRowSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    case_id = serializers.IntegerField(allow_null=True, help_text="null for a pool case outside your scope")
    number = serializers.CharField()
    customer_name = serializers.CharField(help_text="masked")
    bucket = serializers.CharField()
    dpd = serializers.IntegerField()
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    priority = serializers.IntegerField(help_text="1 most urgent … 9")
    klass = serializers.IntegerField(help_text="0 callback, 1 promise follow-up, 2 normal")
    klass_label = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=["own", "pool"])
    amounts = CurrencyAmountsSerializer(many=True, help_text="every currency's figures (empty outside your scope); "
                                                              "`balance`/`currency` are the primary currency's")


class QueueParams(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class QueueAPI(DeskAPIView):
    arrears_scope = "none"
    roles = AGENT_ROLES

    @extend_schema(parameters=[QueueParams], responses={200: QueueRowSerializer(many=True)},
                   summary="Preview of your next cases")
    def get(self, request):
        params = QueueParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = selectors.queue_preview(request.user, timezone.now(), params.validated_data["limit"])
        return Response(QueueRowSerializer(rows, many=True).data)


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class VocabularySerializer(serializers.Serializer):
    action_codes = serializers.ListField(child=serializers.DictField())
    result_codes = serializers.ListField(child=serializers.DictField())
    number_statuses = CodeSerializer(many=True)
    third_party_purposes = CodeSerializer(many=True)


class VocabularyAPI(DeskAPIView):
    arrears_scope = "none"

    @extend_schema(responses=VocabularySerializer, summary="The desk's declared codes")
    def get(self, request):
        return Response({
            "action_codes": [{"code": a.code, "label": str(a.label), "parties": sorted(a.parties)}
                             for a in V.ACTION_CODES.values()],
            "result_codes": [{"code": r.code, "label": str(r.label), "rpc": r.rpc, "ledger_outcome": r.ledger_outcome,
                              "actions": sorted(r.actions), "needs": sorted(r.needs)} for r in V.RESULT_CODES.values()],
            "number_statuses": [{"code": c, "label": str(lbl)} for c, lbl in V.NUMBER_STATUSES.items()],
            "third_party_purposes": [{"code": c, "label": str(lbl)} for c, lbl in V.THIRD_PARTY_PURPOSES.items()],
        })


class BoardRowSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    username = serializers.CharField()
    team = serializers.CharField()
    calls = serializers.IntegerField()
    cases_worked = serializers.IntegerField()
    rpcs = serializers.IntegerField()
    promises = serializers.IntegerField()
    promised_amounts = serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=2),
                                             help_text="currency → amount promised; never summed across currencies")
    queue_depth = serializers.IntegerField()
    holding = serializers.BooleanField()


class BoardSerializer(serializers.Serializer):
    day = serializers.DateField()
    agents = BoardRowSerializer(many=True)
    pool_depth = serializers.DictField(child=serializers.IntegerField())
    queue_depth = serializers.IntegerField()
    totals = serializers.DictField()


class BoardParams(serializers.Serializer):
    day = serializers.DateField(required=False, help_text="business date, 2000-01-01 … 2099-12-31")

    def validate_day(self, value):
        import datetime as _dt

        if not (_dt.date(2000, 1, 1) <= value <= _dt.date(2099, 12, 31)):
            raise serializers.ValidationError("day must be between 2000-01-01 and 2099-12-31")
        return value


class BoardAPI(DeskAPIView):
    arrears_scope = "none"
    roles = BOARD_ROLES

    @extend_schema(parameters=[BoardParams], responses=BoardSerializer, summary="Supervisor board")
    def get(self, request):
        params = BoardParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        b = selectors.board(request.user, params.validated_data.get("day"))
        data = BoardSerializer(b).data
        data["totals"] = {k: ({cur: str(a) for cur, a in v.items()} if isinstance(v, dict) else str(v))
                          for k, v in b.totals.items()}
        return Response(data)


# ---- one case -------------------------------------------------------------------------------
class NumberSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    party = serializers.CharField()
    party_label = serializers.CharField()
    kind_label = serializers.CharField()
    value = serializers.CharField(help_text="masked, e.g. 138****5678")
    status = serializers.ChoiceField(choices=list(V.NUMBER_STATUSES))
    restriction = serializers.CharField()
    third_party = serializers.BooleanField()
    callable = serializers.BooleanField(help_text="the gate allows a call now")
    decision = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    next_allowed_local = serializers.CharField(help_text="when it becomes allowed, debtor's local time")


class SectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    text = serializers.CharField()


class ScriptSerializer(serializers.Serializer):
    stage = serializers.CharField()
    version = serializers.CharField()
    language = serializers.CharField()
    audience = serializers.CharField()
    sections = SectionSerializer(many=True)


class BalanceSerializer(serializers.Serializer):
    account = serializers.CharField()
    paragraph = serializers.CharField()
    amount_owed = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                           help_text="in `currency`, the account's")
    currency = serializers.CharField()


class WorkspaceSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    number = serializers.CharField()
    customer_name = serializers.CharField(help_text="masked")
    bucket = serializers.CharField()
    max_dpd = serializers.IntegerField()
    total_balance = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="the primary currency's")
    amounts = CurrencyAmountsSerializer(many=True, help_text="every currency's figures, never summed; primary first")
    stage = serializers.CharField()
    stage_label = serializers.CharField(help_text="the stage in the request's language")
    timezone = serializers.CharField()
    local_now = serializers.CharField()
    held_by = serializers.CharField()
    open_call_id = serializers.IntegerField(allow_null=True)
    numbers = NumberSerializer(many=True)
    balances = BalanceSerializer(many=True)
    script = ScriptSerializer(allow_null=True)
    script_error = serializers.CharField(help_text="why the debtor script is not shown ('' when it is)")
    third_party_script = ScriptSerializer(allow_null=True)
    third_party_error = serializers.CharField(help_text="why the third-party script is not shown ('' when it is)")


class WorkspaceAPI(DeskAPIView):
    arrears_scope = "case"

    @extend_schema(responses={200: WorkspaceSerializer, 404: ErrorSerializer},
                   summary="The call workspace")
    def get(self, request, pk: int):
        try:
            w = selectors.workspace(request.user, pk, timezone.now())
        except CaseNotFound:
            raise NotFound("no such case") from None
        record("pii.view", actor=request.user, obj=("cases.case", pk), data={"view": "desk_api", "masked": True})
        return Response(WorkspaceSerializer({
            "case_id": w.case.id, "number": w.case.number, "customer_name": w.case.customer.name,
            "bucket": w.case.bucket, "max_dpd": w.case.max_dpd, "total_balance": w.case.total_balance,
            "amounts": w.case.amounts, "stage": w.stage, "stage_label": w.stage_label, "timezone": w.timezone,
            "local_now": w.local_now, "held_by": w.held_by,
            "open_call_id": w.open_call.pk if w.open_call else None, "numbers": w.numbers, "balances": w.balances,
            "script": w.script, "script_error": w.script_error, "third_party_script": w.third_party_script,
            "third_party_error": w.third_party_error}).data)


class DialRequestSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(min_value=1)
    purpose = serializers.ChoiceField(choices=["collect", *V.THIRD_PARTY_PURPOSES], required=False,
                                      help_text="third parties: locate or relay only (CN-WHO-03)")


class DialResponseSerializer(serializers.Serializer):
    call_id = serializers.IntegerField()
    status = serializers.CharField(help_text="placed, manual (record-only adapter) or failed")
    provider_ref = serializers.CharField()
    recording_ref = serializers.CharField(help_text="the call's recording reference, issued by the dialer adapter")
    decision = serializers.CharField()
    reasons = serializers.ListField(child=serializers.DictField())


class DialAPI(DeskAPIView):
    arrears_scope = "case"
    roles = AGENT_ROLES

    @extend_schema(request=DialRequestSerializer,
                   responses={201: DialResponseSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              409: ErrorSerializer},
                   summary="Dial a number (the gate decides first)")
    def post(self, request, pk: int):
        s = DialRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            out = services.dial(request.user, pk, s.validated_data["contact_id"],
                                purpose=s.validated_data.get("purpose"))
        except CaseNotFound:
            raise NotFound("no such case") from None
        return Response(DialResponseSerializer(out).data, status=status.HTTP_201_CREATED)


class OutcomeRequestSerializer(serializers.Serializer):
    call_id = serializers.IntegerField(min_value=1)
    action_code = serializers.ChoiceField(choices=list(V.ACTION_CODES))
    result_code = serializers.ChoiceField(choices=list(V.RESULT_CODES))
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    promise_amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True,
                                              min_value=0, help_text="in the case's currency (major units); needed for promise_to_pay")
    promise_date = serializers.DateField(required=False, allow_null=True, help_text="debtor's local date")
    callback_at = serializers.DateTimeField(required=False, allow_null=True,
                                            help_text="with offset, or naive = the debtor's local time")
    recording_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=21600,
                                                 help_text="the recording's length, when the switch reports it")

    def validate(self, attrs):
        # the dialer adapter issued the call's recording reference at the dial: nobody sends one
        if "recording_id" in getattr(self, "initial_data", {}):
            raise serializers.ValidationError({"recording_id": "the recording reference is issued by the dialer "
                                                               "at the dial; do not send it"})
        return attrs


class OutcomeResponseSerializer(serializers.Serializer):
    call_id = serializers.IntegerField()
    attempt_id = serializers.IntegerField()
    result_code = serializers.CharField()
    promise_id = serializers.IntegerField(allow_null=True)
    callback_at = serializers.DateTimeField(allow_null=True)
    next_available_at = serializers.DateTimeField(allow_null=True)
    restriction = serializers.CharField(allow_null=True)
    hold = serializers.CharField(allow_null=True)
    recording_id = serializers.CharField(help_text="the recording reference the dialer adapter issued at the dial")
    retain_until = serializers.DateField()
    retain_until_settled = serializers.BooleanField()
    reevaluation = serializers.CharField(help_text="the strategy trigger of the re-decision queued after the "
                                                   "outcome (runs in the background worker); empty: none")


class OutcomeAPI(DeskAPIView):
    arrears_scope = "case"
    roles = AGENT_ROLES

    @extend_schema(request=OutcomeRequestSerializer,
                   responses={200: OutcomeResponseSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
                   summary="Post a call's outcome")
    def post(self, request, pk: int):
        s = OutcomeRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        cb = d.get("callback_at")
        raw_cb = request.data.get("callback_at") if hasattr(request.data, "get") else None
        if cb is not None and isinstance(raw_cb, str) and not _has_offset(raw_cb):
            cb = timezone.make_naive(cb)  # naive input means the debtor's local time (the service decides)
        inp = services.OutcomeInput(
            call_id=d["call_id"], action_code=d["action_code"], result_code=d["result_code"], notes=d.get("notes", ""),
            promise_amount=d.get("promise_amount"), promise_date=d.get("promise_date"), callback_at=cb,
            recording_seconds=d.get("recording_seconds"))
        try:
            out = services.post_outcome(request.user, pk, inp)
        except CaseNotFound:
            raise NotFound("no such case") from None
        return Response(OutcomeResponseSerializer(out).data)


def _has_offset(raw: str) -> bool:
    tail = raw.strip()[10:]
    return tail.endswith("Z") or "+" in tail or "-" in tail


class ReleaseAPI(DeskAPIView):
    arrears_scope = "case"
    roles = AGENT_ROLES

    @extend_schema(request=None, responses={204: None, 400: ErrorSerializer}, summary="Give a held case back")
    def post(self, request, pk: int):
        services.release(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReassignRequestSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)


class ReassignAPI(DeskAPIView):
    arrears_scope = "case"
    roles = frozenset({"team_leader", "administrator"})

    @extend_schema(request=ReassignRequestSerializer, responses={204: None, 400: ErrorSerializer,
                                                                  409: ErrorSerializer},
                   summary="Give a case to another agent")
    def post(self, request, pk: int):
        s = ReassignRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.reassign(request.user, pk, s.validated_data["agent_id"], reason=s.validated_data.get("reason", ""))
        return Response(status=status.HTTP_204_NO_CONTENT)


def as_view(cls):
    """``cls.as_view()`` carrying the roles for the permission-matrix test (``arrears_roles``)."""
    view = cls.as_view()
    if cls.roles is not None and cls.arrears_scope == "none":
        view.arrears_roles = frozenset(cls.roles)
    return view
