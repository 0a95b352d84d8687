"""Errors on the pages (Django templates, htmx): the same :class:`~arrears.core.errors.ArrearsError`
the API answers with, shown through one template partial, ``_error.html``, in the page's language.

* :func:`page_error` — what the partial shows: the message in the active language, the offending
  ``field`` (the page highlights the input of that name) and extra lines (e.g. every problem);
* :func:`render_error` — render a page or an htmx fragment with the error, the code's status and
  the ``X-Arrears-Error`` header, which tells the page's script to swap the fragment in although
  the status is 4xx (htmx leaves error responses out otherwise);
* :func:`form_error` — put the message on the form field it belongs to (or the whole form).

The raw code is never shown to a person: it is only the partial's ``data-error-code`` attribute.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as _field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from .errors import ArrearsError

__all__ = ["PageError", "page_error", "render_error", "mark_error", "form_error", "ERROR_HEADER"]

#: response header of a page that shows an error (its value: the error code)
ERROR_HEADER = "X-Arrears-Error"


@dataclass(frozen=True)
class PageError:
    """What ``_error.html`` shows: ``message`` (active language), ``field`` (highlighted input or
    ``None``), ``items`` (extra lines, e.g. every problem) and ``code`` (an attribute only)."""

    code: str
    message: str
    field: str | None = None
    items: list[str] = _field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def page_error(exc: ArrearsError, *, items: Iterable[str] = (), language: str | None = None) -> PageError:
    """``exc`` as the page shows it, in ``language`` (default: the active one)."""
    return PageError(exc.code.value, exc.message(language or get_language()), exc.field, [str(i) for i in items])


def mark_error(response: HttpResponse, exc: ArrearsError | PageError | str) -> HttpResponse:
    """Flag ``response`` as an error page for the htmx script (which then swaps it in)."""
    code = exc if isinstance(exc, str) else (exc.code if isinstance(exc, PageError) else exc.code.value)
    response[ERROR_HEADER] = str(getattr(code, "value", code))  # a plain str: WSGI refuses str subclasses
    return response


def render_error(request: HttpRequest, template: str, context: dict, exc: ArrearsError, *,
                 status: int | None = None, items: Iterable[str] = ()) -> HttpResponse:
    """Render ``template`` with ``error`` (a :class:`PageError`) added to ``context``, with the
    code's status (or ``status``) and the error header."""
    err = page_error(exc, items=items)
    response = render(request, template, {**context, "error": err}, status=status or exc.code.status)
    return mark_error(response, err)


def form_error(form, exc: ArrearsError) -> PageError:
    """Add ``exc``'s message to ``form`` on its field when the form has one, else to the whole
    form; returns what was added."""
    err = page_error(exc)
    form.add_error(err.field if err.field in form.fields else None, err.message)
    return err
