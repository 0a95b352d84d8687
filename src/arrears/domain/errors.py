"""Errors raised by the domain core: :class:`~arrears.core.errors.ArrearsError` (pure Python), so
they carry a stable code and reach the API and the pages in the one error shape."""
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.machine import IllegalTransition as _IllegalTransition


class DomainError(ArrearsError, ValueError):
    """Base class: a domain rule refused the input."""

    code = ErrorCode.INVALID_INPUT


class IllegalTransition(DomainError, _IllegalTransition):
    """A status change that the declared transition map does not allow (raised by
    :meth:`arrears.core.machine.TransitionMap.check` for the domain's maps)."""

    code = ErrorCode.ILLEGAL_TRANSITION


class RuleDataError(DomainError):
    """Rule data (a bucket ladder, a strategy, a rule pack) is invalid; ``errors`` lists every problem."""

    code = ErrorCode.RULE_DATA_INVALID

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source, self.errors = source, list(errors)
        super().__init__(f"{source}: " + "; ".join(self.errors), details={"source": source, "errors": self.errors})
