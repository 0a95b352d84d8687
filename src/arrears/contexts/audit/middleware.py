"""Request context for the audit log.

:class:`RequestContextMiddleware` (after ``AuthenticationMiddleware``) makes the current request
available to :func:`arrears.contexts.audit.services.record` through a context variable, so code deep
below a view (selectors, services, signal receivers) records the IP address, user agent and user
without being handed the request.
"""
from __future__ import annotations

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("arrears_audit_request", default=None)


def current_request():
    """The request being handled in this context, or ``None`` (commands, batch jobs)."""
    return _current_request.get()


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
