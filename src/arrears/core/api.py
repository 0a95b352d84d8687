"""The JSON API's one error shape (DRF glue of :mod:`arrears.core.errors`).

``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` is :func:`exception_handler`: every error an API view
raises — an :class:`~arrears.core.errors.ArrearsError`, DRF's own (validation, authentication,
permission, not found, method, parse, throttling…) or Django's ``Http404`` / ``PermissionDenied`` —
answers ``{"code", "message", "field", "details"}`` with the status of its code and the message in
the request's language (Django's active language: ``zh-hans`` by default, ``en``). Anything else is
a bug: it is logged with its traceback and re-raised, so it stays a 500.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import get_language
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from .errors import ArrearsError, ErrorCode, log_unexpected

__all__ = ["exception_handler", "as_arrears_error", "ErrorSerializer", "log_unexpected"]

#: DRF's exception classes → the code they answer with (first match wins)
_DRF_CODES: tuple[tuple[type[exceptions.APIException], ErrorCode], ...] = (
    (exceptions.ValidationError, ErrorCode.INVALID_INPUT),
    (exceptions.ParseError, ErrorCode.MALFORMED_REQUEST),
    (exceptions.NotAuthenticated, ErrorCode.FORBIDDEN),
    (exceptions.AuthenticationFailed, ErrorCode.FORBIDDEN),
    (exceptions.PermissionDenied, ErrorCode.FORBIDDEN),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.THROTTLED),
)
_BY_STATUS = {400: ErrorCode.INVALID_INPUT, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND,
              405: ErrorCode.METHOD_NOT_ALLOWED, 409: ErrorCode.CONFLICT, 429: ErrorCode.THROTTLED}


class ErrorSerializer(serializers.Serializer):
    """The one error shape (for the OpenAPI schema)."""

    code = serializers.CharField(help_text="stable identifier, e.g. invalid_input, not_found, call_open")
    message = serializers.CharField(help_text="for people, in the request's language (zh-hans or en)")
    field = serializers.CharField(allow_null=True, help_text="the offending input, or null")
    details = serializers.DictField(help_text="more about the error (field errors, reasons, problems…)")


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail → ``{"field": [messages]}`` (nested names joined with dots)."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if any(isinstance(v, (dict, list)) for v in detail):
            out = {}
            for i, value in enumerate(detail):
                if value:
                    out.update(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
            return out
        return {prefix or "non_field_errors": [str(v) for v in detail]}
    return {prefix or "non_field_errors": [str(detail)]}


def _custom_text(exc: exceptions.APIException) -> str | None:
    """The exception's own text when it is not DRF's default one (kept as the technical detail)."""
    text = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else None
    return text if text and text != str(exc.default_detail) else None


def as_arrears_error(exc: BaseException) -> ArrearsError | None:
    """``exc`` as an :class:`ArrearsError` (itself when it is one), ``None`` for an unexpected one."""
    if isinstance(exc, ArrearsError):
        return exc
    if isinstance(exc, Http404):
        message = exc.args[0] if exc.args and not isinstance(exc.args[0], str) else None
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else None
        return ArrearsError(message if message is not None else text, code=ErrorCode.NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return ArrearsError(str(exc) or None, code=ErrorCode.FORBIDDEN)
    if isinstance(exc, DjangoValidationError):
        errors = ({k: [str(m) for m in v] for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict")
                  else {"non_field_errors": [str(m) for m in exc.messages]})
        return ArrearsError(code=ErrorCode.INVALID_INPUT, field=_first_field(errors), details={"errors": errors})
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return ArrearsError(code=ErrorCode.INVALID_INPUT, field=_first_field(errors), details={"errors": errors})
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), None)
        if code is None:
            code = _BY_STATUS.get(exc.status_code, ErrorCode.SERVER_ERROR)
        details: dict[str, Any] = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details["wait"] = int(exc.wait)
        return ArrearsError(_custom_text(exc), code=code, details=details)
    return None


def _first_field(errors: dict[str, list[str]]) -> str | None:
    return next((k for k in errors if k != "non_field_errors"), None)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler: the one JSON shape with the code's status; ``None`` (→ 500, after
    logging) for an unexpected exception."""
    request = context.get("request")
    where = f"{request.method} {request.path}" if request is not None else str(context.get("view"))
    err = as_arrears_error(exc)
    if err is None:
        log_unexpected(exc, where)
        return None
    status = err.code.status
    if status >= 500:
        log_unexpected(exc, where)
    headers = {}
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = "%d" % exc.wait
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            status = exc.status_code  # 401 only where an authentication header is offered (else DRF's 403)
    body = err.to_dict(get_language())
    if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
        body["details"].setdefault("method", request.method)
    set_rollback()
    return Response(body, status=status, headers=headers)
