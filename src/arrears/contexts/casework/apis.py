"""JSON API for cases (DRF). Thin: parse, call the same selectors as the desk, serialise.

Every endpoint reads through the caller's data scope; a case outside it answers 404 and the attempt
is audited, exactly as on the desk. Personal data leaves masked only.
"""
from __future__ import annotations

from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from arrears.contexts.audit.facade import record_audit_event as record

from . import selectors
from .selectors import CaseFilter, CaseNotFound, InvalidCursor


class CurrencyAmountsSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="ISO 4217 code")
    overdue = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="overdue amount in `currency`")
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="balance owed in `currency`")


class CaseRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer_no = serializers.CharField()
    customer_name = serializers.CharField(help_text="masked, e.g. 张*")
    bucket = serializers.CharField()
    max_dpd = serializers.IntegerField(help_text="days past due of the worst account")
    total_balance = serializers.DecimalField(max_digits=16, decimal_places=2,
                                             help_text="in `currency`, the case's primary currency")
    overdue_amount = serializers.DecimalField(max_digits=16, decimal_places=2,
                                              help_text="in `currency`, the case's primary currency")
    currency = serializers.CharField(help_text="the primary currency: the one with the largest overdue amount")
    status = serializers.CharField()
    status_label = serializers.CharField()
    opened_on = serializers.DateField()
    assigned_to = serializers.CharField()
    amounts = CurrencyAmountsSerializer(many=True, help_text="every currency's figures, never summed; primary first")


class CasePageSerializer(serializers.Serializer):
    results = CaseRowSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="cursor for ?after=")
    previous = serializers.CharField(allow_null=True, help_text="cursor for ?before=")
    count = serializers.IntegerField(help_text="matching cases, counted up to the cap")
    count_capped = serializers.BooleanField()


class CaseFilterSerializer(serializers.Serializer):
    bucket = serializers.ListField(child=serializers.CharField(), required=False)
    status = serializers.ListField(child=serializers.CharField(), required=False)
    dpd_min = serializers.IntegerField(required=False, min_value=0)
    dpd_max = serializers.IntegerField(required=False, min_value=0)
    balance_min = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    balance_max = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    q = serializers.CharField(required=False, allow_blank=True)
    after = serializers.CharField(required=False)
    before = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_LIMIT)


@method_decorator(never_cache, name="dispatch")
class CaseListAPI(APIView):
    """Cases in the caller's scope, most overdue first, keyset-paginated."""

    arrears_scope = "case_list"

    @extend_schema(
        parameters=[OpenApiParameter(n, many=n in ("bucket", "status")) for n in
                    ("bucket", "status", "dpd_min", "dpd_max", "balance_min", "balance_max", "q", "after", "before",
                     "limit")],
        responses=CasePageSerializer,
        operation_id="cases_list",
    )
    def get(self, request: Request) -> Response:
        params = {k: request.query_params.getlist(k) if k in ("bucket", "status") else v
                  for k, v in request.query_params.items()}
        f = CaseFilterSerializer(data=params)
        f.is_valid(raise_exception=True)
        d = f.validated_data
        flt = CaseFilter(buckets=tuple(d.get("bucket", ())), statuses=tuple(d.get("status", ())),
                         dpd_min=d.get("dpd_min"), dpd_max=d.get("dpd_max"), balance_min=d.get("balance_min"),
                         balance_max=d.get("balance_max"), q=d.get("q", ""))
        try:
            page = selectors.case_list(request.user, flt, after=d.get("after"), before=d.get("before"),
                                       limit=d.get("limit", selectors.DEFAULT_LIMIT))
        except InvalidCursor as exc:
            exc.field = "after" if d.get("after") else "before"
            raise
        record("pii.view", actor=request.user, data={"view": "api_case_list", "masked": True,
                                                     "cases": [r.id for r in page.rows]})
        data = {"results": [r.__dict__ for r in page.rows], "next": page.next_cursor,
                "previous": page.prev_cursor, "count": page.count, "count_capped": page.count_capped}
        return Response(CasePageSerializer(data).data)


@method_decorator(never_cache, name="dispatch")
class CaseDetailAPI(APIView):
    """One case in the caller's scope: the customer (masked), accounts and figures."""

    arrears_scope = "case"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="cases_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        try:
            case = selectors.case_detail(request.user, pk)
        except CaseNotFound:
            record("access.denied", actor=request.user, obj=("cases.case", pk), data={"action": "api_view"})
            raise Http404 from None
        record("pii.view", actor=request.user, obj=("cases.case", pk), data={"view": "api_case", "masked": True})
        return Response(serializers.JSONField().to_representation(_plain(case)))


def _plain(obj):
    """Dataclasses → JSON-ready values (Decimal as a string with 2 decimals, dates ISO)."""
    from dataclasses import fields, is_dataclass
    from datetime import date, datetime
    from decimal import Decimal

    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, Decimal):
        return f"{obj:.2f}"
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    return obj
