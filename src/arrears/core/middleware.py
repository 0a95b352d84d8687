"""Pages: an exception nobody expected is logged (``arrears.errors``, with its traceback) before
Django answers 500 — production has no console handler on Django's own request logger. Expected
refusals (404, 403, an :class:`~arrears.core.errors.ArrearsError` of a 4xx code) are not bugs."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .errors import ArrearsError, log_unexpected


class LogUnexpectedErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)):
            return None
        if isinstance(exception, ArrearsError) and exception.code.status < 500:
            return None
        log_unexpected(exception, f"{request.method} {request.path}")
        return None  # Django answers 500 as before: nothing is swallowed
