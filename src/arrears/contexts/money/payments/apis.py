"""JSON API for money (DRF). Thin: validate the input, call one service or selector, answer.

``POST /api/v1/payments/`` posts a payment, idempotent by ``(account, external_id)``: a retried
request answers 200 with the same payment instead of 201. ``POST /api/v1/payments/reversals/``
reverses one. ``GET /api/v1/payments/accounts/<account>/balance/?as_of=`` explains a balance.
Posting and reversing need the supervisor or administrator role. The case money endpoints
(promises, plans, settlements) are in :mod:`arrears.contexts.money.payments.case_apis`.

Errors answer the one shape ``{"code", "message", "field", "details"}`` (:mod:`arrears.core.api`):
400 ``invalid_input`` naming the ``field``, 404 ``not_found`` (balance of an unknown account), 409
``payment_conflict`` (a payment id already posted with other figures).
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from arrears.contexts.portfolio.facade import account_id_for
from arrears.core.api import ErrorSerializer
from arrears.core.errors import ArrearsError, ErrorCode

from . import selectors, services

POSTING_ROLES = ("supervisor", "administrator")


class CanPostPayments(BasePermission):
    def has_permission(self, request, view) -> bool:
        u = request.user
        return bool(u and u.is_authenticated and (u.is_superuser or u.groups.filter(name__in=POSTING_ROLES).exists()))


class PaymentInSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=64, help_text="card-system account number")
    external_id = serializers.CharField(max_length=64, help_text="the bank's payment id (idempotency key)")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="yuan, > 0, two decimals")
    paid_at = serializers.DateTimeField(help_text="ISO 8601 with offset, e.g. 2025-03-20T23:30:00+08:00")
    channel = serializers.CharField(max_length=32, required=False, default="bank_transfer")


class ReversalInSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=64)
    external_id = serializers.CharField(max_length=64)
    reversed_on = serializers.DateField(help_text="local date the reversal takes effect")
    kind = serializers.ChoiceField(choices=["reversal", "chargeback"], default="reversal")
    reason = serializers.CharField(max_length=255, required=False, default="")


class BadInput(ArrearsError):
    """400 ``invalid_input`` naming the offending ``field`` (``detail``: the technical text)."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field=field)


def _validated(serializer_class, request: Request) -> tuple[dict, int]:
    """The request's validated data and the id of the card account it names (``account``: the
    card-system number); DRF's 400 for invalid fields, :class:`BadInput` for an unknown account.
    Shared by posting and reversing."""
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    account_id = account_id_for(d["account"])
    if account_id is None:
        raise BadInput("account", f"unknown account {d['account']!r}")
    return d, account_id


def _payments(request: Request, reversed_only: bool) -> Response:
    from .models import Payment

    number = request.query_params.get("account", "")
    qs = Payment.objects.filter(account__external_id=number) if number else Payment.objects.none()
    if reversed_only:
        qs = qs.filter(status="reversed")
    rows = [{"external_id": p.external_id, "local_date": p.local_date.isoformat(), "amount": str(p.amount),
             "status": p.status, "reversed_on": p.reversed_on.isoformat() if p.reversed_on else None,
             "allocation": p.allocation} for p in qs.order_by("-paid_at")[:200]]
    return Response({"results": rows})


class PaymentPostAPI(APIView):
    permission_classes = [CanPostPayments]

    @extend_schema(parameters=[OpenApiParameter("account", str)], responses={200: dict})
    def get(self, request: Request) -> Response:
        """The account's payments (``?account=``; newest first, at most 200) with their allocation."""
        return _payments(request, False)

    @extend_schema(request=PaymentInSerializer,
                   responses={200: dict, 201: dict, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request) -> Response:
        d, account_id = _validated(PaymentInSerializer, request)
        r = services.post_payment(account_id, d["external_id"], d["amount"], d["paid_at"], channel=d["channel"],
                                  source="api", actor=request.user)
        body = {"payment_id": r.payment_id, "created": r.created, "allocation": r.allocation, "account": r.account,
                "written_off": r.written_off}
        return Response(body, status=status.HTTP_201_CREATED if r.created else status.HTTP_200_OK)


class ReversalAPI(APIView):
    permission_classes = [CanPostPayments]

    @extend_schema(parameters=[OpenApiParameter("account", str)], responses={200: dict})
    def get(self, request: Request) -> Response:
        """The account's reversed payments (``?account=``)."""
        return _payments(request, True)

    @extend_schema(request=ReversalInSerializer, responses={200: dict, 201: dict, 400: ErrorSerializer,
                                                           403: ErrorSerializer})
    def post(self, request: Request) -> Response:
        d, account_id = _validated(ReversalInSerializer, request)
        out = services.reverse_payment(account_id, d["external_id"], d["reversed_on"], kind=d["kind"],
                                       reason=d["reason"], actor=request.user)
        return Response(out, status=status.HTTP_201_CREATED if out["created"] else status.HTTP_200_OK)


class BalanceAPI(APIView):
    permission_classes = [CanPostPayments]

    @extend_schema(parameters=[OpenApiParameter("account", str), OpenApiParameter("as_of", str, description="YYYY-MM-DD")],
                   responses={200: dict, 400: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request: Request) -> Response:
        """``?account=&as_of=``: the balance explanation; without ``account``: the product terms
        (annualised rate always shown, CN-RATE-01)."""
        from arrears.rules.products import load_product, product_codes

        account = request.query_params.get("account", "")
        if not account:
            return Response({"products": [
                {"code": t.code, "version": t.version, "annual_rate": str(t.annual_rate), "rate_zh": t.rate_display("zh"),
                 "rate_en": t.rate_display("en"), "allocation_order": list(t.allocation_order)}
                for t in (load_product(c) for c in product_codes())]})

        exp = selectors.explain_account(account, selectors.parse_as_of(request.query_params.get("as_of", "")))
        return Response(exp.to_dict())
