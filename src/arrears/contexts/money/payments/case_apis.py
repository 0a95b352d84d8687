"""JSON API on one case's money (DRF): promises to pay, payment plans (个性化分期) and settlements /
waivers (减免). Thin: check scope and role, validate, call one service or selector, answer.

Every route names a case (``<pk>``) and declares the ``case`` data scope: a case outside the
caller's scope answers 404 whatever the method, and the attempt is audited (``access.denied``),
exactly as on the desk. Reading (GET) is open to everyone who sees the case; each write is open only
to the roles that do that work (:data:`WRITE_ROLES`), others get 403. Maker-checker: the person
who proposed a plan or requested a settlement may not approve it (the services refuse). Plans and
settlements are the customer's (one case per customer), acted on through their case.

Errors answer the one shape ``{"code", "message", "field", "details"}`` (:mod:`arrears.core.api`):
400 ``servicing_refused`` with every reason in ``details.problems``, 400 ``invalid_input`` naming the
``field`` (bad promise input, DRF's field errors in ``details.errors``), 403 ``forbidden``, 404
``not_found``, 409 ``illegal_transition`` for a move the status map forbids.
"""
from __future__ import annotations

from datetime import date

from django.http import Http404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework.facade import case_ref
from arrears.contexts.casework.facade import scope_for
from arrears.contexts.money.servicing import services as servicing
from arrears.core.api import ErrorSerializer
from arrears.domain.calendar import local_date
from arrears.domain.plans import REQUIRED_CONTENTS

from . import selectors, services

_TALKERS = frozenset({"collector", "team_leader", "field_agent", "customer_service", "agency_collector",
                      "legal_officer", "administrator"})
_NEGOTIATORS = frozenset({"collector", "team_leader", "customer_service", "legal_officer", "administrator"})
_CHECKERS = frozenset({"team_leader", "supervisor", "administrator"})

#: Who may do each write (a role code set); reading needs only the case in scope.
WRITE_ROLES: dict[str, frozenset[str]] = {
    "take_promise": _TALKERS,             # whoever speaks with the debtor records what they promised
    "propose_plan": _NEGOTIATORS,         # in-house staff only: agencies may not grant plans
    "approve_plan": _CHECKERS,            # the checker of maker-checker
    "sign_plan": _NEGOTIATORS,
    "request_settlement": _NEGOTIATORS,
    "approve_settlement": _CHECKERS,      # within the role's limits in servicing/authority.yaml
}
PROMISE_CHANNELS = ("phone", "sms", "field_visit", "customer_service", "online", "letter", "voice_robot")


class CaseScopedAPI(APIView):
    """Base of the case money endpoints: resolves ``pk`` inside the caller's scope before any
    method runs (404 + audit outside it), then checks the write role of ``write_action``."""

    arrears_scope = "case"
    write_action = ""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        pk = kwargs.get("pk")
        case = case_ref(pk, user=request.user)
        if case is None:
            record("access.denied", actor=request.user, obj=("cases.case", pk),
                   data={"action": f"api_{type(self).__name__}"})
            raise Http404
        self.case_id, self.customer_id, self.tz = case.id, case.customer_id, case.timezone
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.write_action:
            s = scope_for(request.user)
            allowed = WRITE_ROLES[self.write_action]
            if not (request.user.is_superuser or s.roles & allowed):
                raise PermissionDenied(f"{self.write_action} needs one of the roles {sorted(allowed)}")

    def today(self) -> date:
        """The debtor's local business date now."""
        return local_date(timezone.now(), self.tz)

    def serve(self, request: Request, serializer_class, act, body, *, created: bool = False) -> Response:
        """The one shape of the servicing writes: validate the body with ``serializer_class`` (400
        with DRF's field errors), run ``act(validated_data)``, answer ``body(result)`` with 201 when
        ``created`` else 200. A refusal of the service (``ServicingRefused``: 400 with every
        problem) or of the declared transition map (``IllegalTransition``: 409) reaches the one
        exception handler."""
        s = serializer_class(data=request.data)
        s.is_valid(raise_exception=True)
        out = act(s.validated_data)
        return Response(body(out), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _account_of_case(view: CaseScopedAPI, number: str) -> int:
    """The id of account ``number`` of the case's customer; 400 otherwise."""
    from arrears.contexts.portfolio.facade import account_id_for

    account_id = account_id_for(number, customer_id=view.customer_id)
    if account_id is None:
        raise serializers.ValidationError({"account": f"no account {number!r} on this case"})
    return account_id


def _plain(views) -> list[dict]:
    """Dataclass rows → JSON-ready dicts: amounts as exact strings ("700.00"), dates ISO 8601."""
    from dataclasses import asdict
    from decimal import Decimal

    def value(v):
        if isinstance(v, Decimal):
            return f"{v:.2f}"
        if isinstance(v, date):
            return v.isoformat()
        return v

    return [{k: value(v) for k, v in asdict(row).items()} for row in views]


# ----------------------------------------------------------------------------- promises


class PromiseInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="yuan, > 0, two decimals")
    promised_on = serializers.DateField(help_text="the debtor's local date, today or later")
    channel = serializers.ChoiceField(choices=PROMISE_CHANNELS, default="phone")


@method_decorator(never_cache, name="dispatch")
class CasePromisesAPI(CaseScopedAPI):
    """``GET``: the case's promises to pay (newest first) with status and amount paid towards them.
    ``POST``: take a promise (amount, date, channel; the agent is the caller) — 201."""

    write_action = "take_promise"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="case_promises_list")
    def get(self, request: Request, pk: int) -> Response:
        return Response({"results": _plain(selectors.case_promises(self.case_id))})

    @extend_schema(request=PromiseInSerializer, responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer},
                   operation_id="case_promises_create")
    def post(self, request: Request, pk: int) -> Response:
        s = PromiseInSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        p = services.take_promise(self.case_id, d["amount"], d["promised_on"], channel=d["channel"],
                                  agent=request.user)
        return Response({"id": p.pk, "status": p.status, "amount": str(p.amount),
                         "promised_on": p.promised_on.isoformat(), "channel": p.channel},
                        status=status.HTTP_201_CREATED)


# ----------------------------------------------------------------------------- plans


class PlanInSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=64, help_text="card-system account number of the case's customer")
    term_months = serializers.IntegerField(min_value=1, max_value=60, help_text="≤ 60 months (第七十条)")
    first_due = serializers.DateField(help_text="due date of the first instalment")
    contents = serializers.DictField(child=serializers.CharField(), help_text=f"the six contents: {list(REQUIRED_CONTENTS)}")
    hardship_confirmed = serializers.BooleanField()
    willing_to_repay = serializers.BooleanField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2, required=False,
                                     help_text="default: what the account owes")


class PlanRefSerializer(serializers.Serializer):
    plan = serializers.IntegerField()


class PlanSignSerializer(PlanRefSerializer):
    signature = serializers.CharField(max_length=128, help_text="document, e-signature or recording id")


def _plan_body(plan) -> dict:
    return {"id": plan.pk, "status": plan.status, "total": str(plan.total), "term_months": plan.term_months}


@method_decorator(never_cache, name="dispatch")
class CasePlansAPI(CaseScopedAPI):
    """``GET``: the customer's plans (active ones with amount due now, next due date, DPD).
    ``POST``: propose a plan (eligibility, term, six contents, exact schedule) — 201 or 400 with
    every problem."""

    write_action = "propose_plan"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="case_plans_list")
    def get(self, request: Request, pk: int) -> Response:
        from arrears.contexts.money.servicing.selectors import customer_plans

        return Response({"results": _plain(customer_plans(self.customer_id, self.today()))})

    @extend_schema(request=PlanInSerializer, responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer},
                   operation_id="case_plans_create")
    def post(self, request: Request, pk: int) -> Response:
        return self.serve(request, PlanInSerializer, lambda d: servicing.propose_plan(
            _account_of_case(self, d["account"]), term_months=d["term_months"], first_due=d["first_due"],
            contents=d["contents"], hardship_confirmed=d["hardship_confirmed"],
            willing_to_repay=d["willing_to_repay"], today=self.today(), actor=request.user, total=d.get("total"),
        ), _plan_body, created=True)


class CasePlanApproveAPI(CaseScopedAPI):
    """``POST {"plan": id}``: approve a proposed plan (not by its proposer)."""

    write_action = "approve_plan"

    @extend_schema(request=PlanRefSerializer, responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer,
                                                         409: ErrorSerializer}, operation_id="case_plan_approve")
    def post(self, request: Request, pk: int) -> Response:
        return self.serve(request, PlanRefSerializer, lambda d: servicing.approve_plan(
            d["plan"], request.user, self.today(), customer_id=self.customer_id), _plan_body)


class CasePlanSignAPI(CaseScopedAPI):
    """``POST {"plan": id, "signature": evidence}``: record the signature of an approved plan; it
    becomes active and suppresses collection contact (HS-02)."""

    write_action = "sign_plan"

    @extend_schema(request=PlanSignSerializer, responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer,
                                                          409: ErrorSerializer}, operation_id="case_plan_sign")
    def post(self, request: Request, pk: int) -> Response:
        return self.serve(request, PlanSignSerializer, lambda d: servicing.sign_plan(
            d["plan"], d["signature"], timezone.now(), request.user, customer_id=self.customer_id),
            lambda plan: {**_plan_body(plan), "signed_at": plan.signed_at.isoformat()})


# ----------------------------------------------------------------------------- settlements


class SettlementInSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=64, help_text="card-system account number of the case's customer")
    waived = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="yuan to waive, > 0")
    deadline = serializers.DateField(help_text="the payoff must be paid by this local date")
    reason = serializers.CharField(max_length=255, required=False, default="")


class SettlementRefSerializer(serializers.Serializer):
    settlement = serializers.IntegerField()


def _settlement_body(s) -> dict:
    return {"id": s.pk, "status": s.status, "owed": str(s.owed), "waived": str(s.waived), "payoff": str(s.payoff),
            "deadline": s.deadline.isoformat()}


@method_decorator(never_cache, name="dispatch")
class CaseSettlementsAPI(CaseScopedAPI):
    """``GET``: the customer's settlements. ``POST``: request waiving ``waived`` of what the account
    owes if the rest is paid by ``deadline`` — 201."""

    write_action = "request_settlement"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="case_settlements_list")
    def get(self, request: Request, pk: int) -> Response:
        from arrears.contexts.money.servicing.selectors import customer_settlements

        return Response({"results": _plain(customer_settlements(self.customer_id))})

    @extend_schema(request=SettlementInSerializer, responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer},
                   operation_id="case_settlements_create")
    def post(self, request: Request, pk: int) -> Response:
        return self.serve(request, SettlementInSerializer, lambda d: servicing.request_settlement(
            _account_of_case(self, d["account"]), waived=d["waived"], deadline=d["deadline"], today=self.today(),
            actor=request.user, reason=d["reason"]), _settlement_body, created=True)


class CaseSettlementApproveAPI(CaseScopedAPI):
    """``POST {"settlement": id}``: approve within the approver's authority (amount and percentage
    limits of one of their roles) — not by the requester."""

    write_action = "approve_settlement"

    @extend_schema(request=SettlementRefSerializer, responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer,
                                                               409: ErrorSerializer},
                   operation_id="case_settlement_approve")
    def post(self, request: Request, pk: int) -> Response:
        return self.serve(request, SettlementRefSerializer, lambda d: servicing.approve_settlement(
            d["settlement"], request.user, self.today(), customer_id=self.customer_id), _settlement_body)
