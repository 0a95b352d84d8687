"""Allocation policy (分案策略): who works a case — an internal team and agent, or an agency.

An :class:`AllocationPolicy` is rule data (``arrears/rules/allocation.yaml``, validated by
:func:`arrears.rules.allocation_loader.load_allocation_policy`). The vectorised engine
(:mod:`arrears.engines.allocation`) applies it to every open case at once; the pure helpers here
(:meth:`AllocationPolicy.department_for`, :func:`review_placement`, :func:`keep_reason`) state the
same per-case rules one case at a time, for services and for the parity tests.

Units: day counts are calendar days in the debtor's local calendar; ``sticky_days`` is compared
with ``as_of − assigned_on``; a placement's term runs ``placed_on + term_days`` (its
``recall_due_on``; on that date the term is over). Pure: no Django, no I/O, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "DEPARTMENTS", "INTERNAL_DEPARTMENTS", "ORDER_FIELDS", "CHANGES", "REASONS", "PLACEMENT_OPS",
    "PLACEMENT_REASONS", "OrderKey", "PlacementRules", "RecallRules", "AllocationPolicy", "PlacementReview",
    "review_placement", "keep_reason",
]

#: internal departments that own teams, plus ``agency`` (external placement, no internal agent)
INTERNAL_DEPARTMENTS = ("collection", "field", "legal")
DEPARTMENTS = INTERNAL_DEPARTMENTS + ("agency",)
#: case fields the allocation order may use (``priority`` comes from the action's params JSON)
ORDER_FIELDS = ("priority", "dpd", "balance", "case_id")
#: ``change`` values of an assignment row
CHANGES = ("keep", "assign", "reassign", "unassign", "unassigned")
#: ``reason`` values of an assignment row
REASONS = ("sticky", "still_eligible", "new", "absent", "team_inactive", "department_changed",
           "skill_changed", "over_capacity", "no_eligible_team", "placed_with_agency")
PLACEMENT_OPS = ("place", "recall", "retain")
#: ``reason`` values of a placement operation (place: ``new``; recall: the four recall rules;
#: retain: why the case was retained 留案)
PLACEMENT_REASONS = ("new", "case_closed", "hold", "stage_left", "term_end", "open_promise", "recent_payment")


@dataclass(frozen=True)
class OrderKey:
    """One key of the allocation order: ``field`` ∈ :data:`ORDER_FIELDS`, ``descending`` or not;
    missing values sort last (a case's priority is never missing: an action without one has
    priority 9, :mod:`arrears.domain.action_params`). ``case_id`` ascending always ends the
    order, so it is total and allocation is deterministic."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class PlacementRules:
    """Placement with external agencies (委外) and case retention (留案).

    * ``term_days``: ``recall_due_on = placed_on + term_days``;
    * retention: at term end a case is retained — ``recall_due_on`` moves ``extension_days`` on
      (from the later of the old due date and ``as_of``) and ``extensions`` grows by one — while
      ``extensions < max_extensions`` and the case has an open promise (``retain_on_open_promise``)
      or a payment within ``paid_within_days`` days before ``as_of``;
    * ``default_pool``: the pool for a case in the agency stage whose action names none;
    * ``held_department``: the internal department that works an agency-stage case that may not be
      placed because of a recall hold kind;
    * ``rotate_on_term_end``: a case recalled at term end is placed again the same day only with a
      *different* agency of its pool.
    """

    term_days: int
    extension_days: int
    max_extensions: int
    paid_within_days: int
    retain_on_open_promise: bool = True
    default_pool: str = "standard"
    held_department: str = "collection"
    rotate_on_term_end: bool = True

    def recall_due_on(self, placed_on: date) -> date:
        return placed_on + timedelta(days=self.term_days)


@dataclass(frozen=True)
class RecallRules:
    """When an active placement is recalled (撤案), in this order of precedence: the case closed
    (``on_case_closed``); the case has a hold of a kind in ``on_hold_kinds``; the strategy moved the
    case out of the agency stage (``on_stage_left``); the term ended and the case was not retained
    (``at_term_end``)."""

    on_case_closed: bool = True
    on_hold_kinds: frozenset[str] = frozenset()
    at_term_end: bool = True
    on_stage_left: bool = True


@dataclass(frozen=True)
class AllocationPolicy:
    """The allocation policy. ``departments``: stage → department pairs (a stage not listed has no
    department: its cases stay unassigned with reason ``no_eligible_team``)."""

    version: str
    sticky_days: int
    departments: tuple[tuple[str, str], ...]
    order: tuple[OrderKey, ...]
    placement: PlacementRules
    recall: RecallRules
    agency_stage: str = "agency"

    @property
    def key(self) -> str:
        """``allocation@<version>`` — what assignment events store."""
        return f"allocation@{self.version}"

    def department_for(self, stage: str | None, hold_kind: str | None = None) -> str | None:
        """The department that works a case in ``stage`` (``None`` when the stage is not mapped).

        An agency-stage case with a hold of a recall kind cannot be placed and goes to
        ``placement.held_department``."""
        dept = dict(self.departments).get(stage or "none")
        if dept == "agency" and hold_kind is not None and hold_kind in self.recall.on_hold_kinds:
            return self.placement.held_department
        return dept

    def validate(self, raise_on_error: bool = True) -> list[str]:
        """Every consistency problem (the schema checks the shapes). Raises
        :class:`~arrears.domain.errors.RuleDataError` (source ``allocation@<version>``) when
        ``raise_on_error`` and there are problems; else returns them."""
        errors: list[str] = []
        stages = [s for s, _ in self.departments]
        if len(set(stages)) != len(stages):
            errors.append("departments: a stage is listed twice")
        for stage, dept in self.departments:
            if dept not in DEPARTMENTS:
                errors.append(f"departments.{stage}: unknown department {dept!r} (one of {', '.join(DEPARTMENTS)})")
        if dict(self.departments).get(self.agency_stage) != "agency":
            errors.append(f"departments.{self.agency_stage}: the agency stage must map to department 'agency'")
        if any(d == "agency" for s, d in self.departments if s != self.agency_stage):
            errors.append("departments: only the agency stage may map to department 'agency'")
        if self.sticky_days < 0:
            errors.append("sticky_days: must be 0 or more")
        fields = [k.field for k in self.order]
        for f in fields:
            if f not in ORDER_FIELDS:
                errors.append(f"order: unknown field {f!r} (one of {', '.join(ORDER_FIELDS)})")
        if len(set(fields)) != len(fields):
            errors.append("order: a field is listed twice")
        p = self.placement
        if p.term_days < 1:
            errors.append("placement.term_days: must be at least 1")
        if p.extension_days < 1:
            errors.append("placement.extension_days: must be at least 1")
        if p.max_extensions < 0 or p.paid_within_days < 0:
            errors.append("placement: max_extensions and paid_within_days must be 0 or more")
        if p.held_department not in INTERNAL_DEPARTMENTS:
            errors.append(f"placement.held_department: must be one of {', '.join(INTERNAL_DEPARTMENTS)}")
        if errors and raise_on_error:
            from .errors import RuleDataError
            raise RuleDataError(self.key, errors)
        return errors


@dataclass(frozen=True)
class PlacementReview:
    """What happens to one active placement today: ``op`` is ``keep`` (nothing), ``recall`` or
    ``retain``; ``reason`` from :data:`PLACEMENT_REASONS` (``None`` for keep); the placement's
    ``recall_due_on`` and ``extensions`` after the operation."""

    op: str
    reason: str | None
    recall_due_on: date
    extensions: int


def review_placement(policy: AllocationPolicy, as_of: date, *, case_open: bool, stage: str | None,
                     hold_kind: str | None, promise: str | None, last_payment_on: date | None,
                     recall_due_on: date, extensions: int) -> PlacementReview:
    """The recall / retention rules for one active placement (see :class:`RecallRules`,
    :class:`PlacementRules`). ``stage`` is the case's stage after today's strategy decision
    (``None`` when the case is not among today's cases: no stage test then)."""
    r, p = policy.recall, policy.placement
    keep = PlacementReview("keep", None, recall_due_on, extensions)
    if r.on_case_closed and not case_open:
        return PlacementReview("recall", "case_closed", recall_due_on, extensions)
    if hold_kind is not None and hold_kind in r.on_hold_kinds:
        return PlacementReview("recall", "hold", recall_due_on, extensions)
    if r.on_stage_left and stage is not None and stage != policy.agency_stage:
        return PlacementReview("recall", "stage_left", recall_due_on, extensions)
    if not r.at_term_end or recall_due_on > as_of:
        return keep
    if extensions < p.max_extensions:
        why = None
        if p.retain_on_open_promise and promise == "open":
            why = "open_promise"
        elif last_payment_on is not None and (as_of - last_payment_on).days <= p.paid_within_days:
            why = "recent_payment"
        if why:
            base = max(recall_due_on, as_of)
            return PlacementReview("retain", why, base + timedelta(days=p.extension_days), extensions + 1)
    return PlacementReview("recall", "term_end", recall_due_on, extensions)


def keep_reason(policy: AllocationPolicy, as_of: date, *, department: str | None, agent_present: bool,
                team_active: bool, team_department: str | None, team_eligible: bool,
                assigned_on: date | None) -> tuple[bool, str]:
    """Whether a case keeps its current agent (before the capacity check) and why: ``(True,
    'sticky' | 'still_eligible')`` or ``(False, 'placed_with_agency' | 'absent' | 'team_inactive' |
    'department_changed' | 'skill_changed')``. ``sticky`` means within ``sticky_days`` of
    ``assigned_on`` (kept even if the team's skills no longer fit)."""
    if department == "agency":
        return False, "placed_with_agency"
    if not agent_present:
        return False, "absent"
    if not team_active:
        return False, "team_inactive"
    if team_department != department or department is None:
        return False, "department_changed"
    if assigned_on is not None and (as_of - assigned_on).days < policy.sticky_days:
        return True, "sticky"
    if team_eligible:
        return True, "still_eligible"
    return False, "skill_changed"
