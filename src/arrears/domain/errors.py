"""Errors raised by the domain core."""


class DomainError(ValueError):
    """Base class: a domain rule refused the input."""


class IllegalTransition(DomainError):
    """A status change that the declared transition map does not allow."""

    def __init__(self, machine: str, from_state: str, to_state: str) -> None:
        self.machine, self.from_state, self.to_state = machine, from_state, to_state
        super().__init__(f"{machine}: transition {from_state!r} → {to_state!r} is not allowed")


class RuleDataError(DomainError):
    """Rule data (a bucket ladder, a strategy, a rule pack) is invalid; ``errors`` lists every problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source, self.errors = source, list(errors)
        super().__init__(f"{source}: " + "; ".join(self.errors))
