"""Errors raised by the domain core: :class:`~arrears.core.errors.ArrearsError` (pure Python), so
they carry a stable code and reach the API and the pages in the one error shape."""
from arrears.core.errors import ArrearsError, ErrorCode


class DomainError(ArrearsError, ValueError):
    """Base class: a domain rule refused the input."""

    code = ErrorCode.INVALID_INPUT


class IllegalTransition(DomainError):
    """A status change that the declared transition map does not allow."""

    code = ErrorCode.ILLEGAL_TRANSITION

    def __init__(self, machine: str, from_state: str, to_state: str) -> None:
        self.machine, self.from_state, self.to_state = machine, from_state, to_state
        super().__init__(f"{machine}: transition {from_state!r} → {to_state!r} is not allowed",
                         details={"machine": machine, "from": from_state, "to": to_state})


class RuleDataError(DomainError):
    """Rule data (a bucket ladder, a strategy, a rule pack) is invalid; ``errors`` lists every problem."""

    code = ErrorCode.RULE_DATA_INVALID

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source, self.errors = source, list(errors)
        super().__init__(f"{source}: " + "; ".join(self.errors), details={"source": source, "errors": self.errors})
