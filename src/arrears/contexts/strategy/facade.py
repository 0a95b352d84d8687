"""The strategy context owns the collection strategy — versioned strategies (YAML), the day's decision per case (stage, action, ``ActionParams``, arm), re-decisions after events — and allocation to teams, agents and agencies.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy
# (money and contact, right of the strategy, hand it their relations and follow its re-decisions:
# see arrears.contexts.strategy.relations)

from .relations import RELATIONS, case_redecided, register_relation  # noqa: E402,F401


def case_stage_label(stage: str | None, strategy_version: str | None = None) -> str:
    """A case's collection stage in the UI language (the strategy's own labels: ``电话催收`` /
    ``Phone``; none: ``无阶段``), named by the strategy version that set it."""
    from .selectors import case_stage_label as label

    return label(stage, strategy_version)


def reevaluate_after_commit(case_id: int | None, trigger: str, as_of) -> None:
    """Ask for a re-decision of case ``case_id`` because of an event (``trigger``: a
    ``StrategyDecision.Trigger`` value — ``payment_posted``, ``promise_broken``, ``visit_reported``,
    ``complaint_opened``, ``hold_changed``, ``manual``; the task refuses another) on business date
    ``as_of`` (a ``date``). Queued once the current transaction commits (at once outside one);
    nothing for ``case_id`` ``None``; a backend that cannot take the task is logged, not raised."""
    from .tasks import reevaluate_after_commit as queue

    queue(case_id, trigger, as_of)




# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


def run_strategy(as_of):
    """The day's strategy decision for every open case (the daily pipeline's strategy step); see
    :func:`arrears.contexts.strategy.services.run_strategy` for what it reads, writes and returns."""
    from .services import run_strategy as run

    return run(as_of)


def run_allocation(as_of, strategy_run):
    """Allocation of the day's decided cases to teams, agents and agencies (after
    :func:`run_strategy`); see :func:`arrears.contexts.strategy.services.run_allocation`."""
    from .services import run_allocation as run

    return run(as_of, strategy_run)
