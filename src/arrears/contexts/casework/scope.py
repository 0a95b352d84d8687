"""Data scope: which cases a user may see, and what they may do with personal data.

The one place the rules live (DESIGN §4, issue 3). Every read of cases — the desk list and page,
htmx fragments, the JSON API, CSV exports, search — starts from :func:`visible_cases`, so a case
outside the user's scope is simply not found (the views answer 404 and audit the attempt).

Scope per role (a user with several roles sees the union):

==================  ==========================================================  ==========
role                cases visible                                               writes
==================  ==========================================================  ==========
administrator       all                                                         yes
compliance_officer  all                                                         read-only
supervisor          all                                                         read-only
team_leader         cases of the teams they lead, and cases assigned to their   yes
                    teams' members
collector           cases assigned to them                                      yes
field_agent         cases with a field visit assigned to them (not cancelled)   yes
legal_officer       cases with an active legal referral                         yes
customer_service    cases of customers who contacted them or were routed to     yes
                    them
agency_collector    cases placed with their agency while the placement is       yes
                    active — nothing after recall
==================  ==========================================================  ==========

Reading happens per request from the database, so a change of role, team or placement takes
effect at the user's next request. The rules that rest on other contexts' records are registered by
those contexts (:func:`register_scope_rule`, from their ``AppConfig.ready``): field visits
(``contact.fieldwork``: field agents, and field team leaders for their teams' visits), legal
referrals (``legal``), service contacts (``money.servicing``); placements come from the org
context's facade.

Revealing a full personal value (``REVEAL``) is allowed per role and kind of value; a field agent
may see a visit address only on the day of their own visit to that case (DESIGN §4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from .models import Case

#: Roles that see every case without changing anything.
READ_ALL_ROLES = frozenset({"compliance_officer", "supervisor"})

#: Kinds of personal value each role may reveal in full (with a reason; rate-limited; audited).
#: ``phone``: the debtor's and contacts' phone numbers; ``national_id``; ``address``; ``email``;
#: ``name``: full names.
REVEAL: dict[str, frozenset[str]] = {
    "collector": frozenset({"phone", "name"}),
    "team_leader": frozenset({"phone", "name", "address", "email"}),
    "field_agent": frozenset({"phone", "name", "address"}),
    "legal_officer": frozenset({"phone", "name", "national_id", "address", "email"}),
    "customer_service": frozenset({"phone", "name", "national_id"}),
    "agency_collector": frozenset({"phone", "name"}),
}
REVEAL_KINDS = frozenset({"phone", "national_id", "address", "email", "name"})
#: The kind of personal value a contact's ``value`` is, by contact kind.
CONTACT_REVEAL_KIND = {"mobile": "phone", "home_phone": "phone", "work_phone": "phone", "email": "email",
                       "home_address": "address", "work_address": "address"}


@dataclass(frozen=True)
class Scope:
    """What a user may see. ``q`` is ``None`` for all cases; ``Q(pk__in=[])`` for none."""

    roles: frozenset[str]
    q: Q | None
    read_only: bool

    @property
    def sees_all(self) -> bool:
        return self.q is None


NOTHING = Q(pk__in=[])


#: What other contexts add to a role's scope (:func:`register_scope_rule`): role → rules. A rule
#: gives the ids of the cases (or of the customers whose cases) the user may see, as a subquery
#: (a ``values("case_id")`` queryset) or a list.
CASE_RULES: dict[str, list] = {}
CUSTOMER_RULES: dict[str, list] = {}


def register_scope_rule(role: str, *, case_ids=None, customer_ids=None) -> None:
    """Let a context widen a role's data scope from its own records: ``case_ids(user)`` returns
    the ids of cases the user may see (field visits assigned to a field agent, active legal
    referrals …), ``customer_ids(user)`` the ids of customers whose cases they may see (service
    contacts) — a subquery or a list. Call from the context's ``AppConfig.ready``; registering the
    same function again is a no-op."""
    if role not in ROLES_WITH_RULES:
        raise ValueError(f"unknown role {role!r}")
    for registry, fn in ((CASE_RULES, case_ids), (CUSTOMER_RULES, customer_ids)):
        if fn is not None and fn not in registry.setdefault(role, []):
            registry[role].append(fn)


#: The roles whose scope comes (also) from other contexts' records.
ROLES_WITH_RULES = frozenset({"collector", "team_leader", "field_agent", "legal_officer", "customer_service",
                              "agency_collector"})


def scope_for(user) -> Scope:
    """The user's scope, read from their roles, team, agency and assignments now."""
    from arrears.contexts.org import facade as org

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(frozenset(), NOTHING, True)
    roles = org.user_role_codes(user)
    if user.is_superuser or "administrator" in roles:
        return Scope(roles, None, False)
    if roles & READ_ALL_ROLES:
        return Scope(roles, None, not (roles - READ_ALL_ROLES))
    parts: list[Q] = []
    if "collector" in roles:
        parts.append(Q(assigned_to=user))
    if "team_leader" in roles:
        parts.append(Q(team__leader=user) | Q(assigned_to__staff_profile__team__leader=user))
    if "agency_collector" in roles:
        placed = org.placed_case_ids(user)  # cases placed with the user's agency while placed
        if placed is not None:
            parts.append(Q(pk__in=placed))
    for role in sorted(roles & ROLES_WITH_RULES):
        parts += [Q(pk__in=fn(user)) for fn in CASE_RULES.get(role, ())]
        parts += [Q(customer_id__in=fn(user)) for fn in CUSTOMER_RULES.get(role, ())]
    q = NOTHING
    for p in parts:
        q = p if q is NOTHING else q | p
    return Scope(roles, q, False)


def visible_cases(user) -> QuerySet[Case]:
    """All cases ``user`` may see now (the base queryset of every case read)."""
    s = scope_for(user)
    # every rule is a semi-join or a chain of to-one joins, so no case is repeated
    return Case.objects.all() if s.q is None else Case.objects.filter(s.q)


#: ``(role, kind)`` reveals allowed only while a condition another context registers holds
#: (:func:`register_reveal_condition`): a field agent sees an address only on the day of their own
#: visit to the case. Without a registered condition such a reveal is not allowed.
CONDITIONAL_REVEALS = frozenset({("field_agent", "address")})
REVEAL_CONDITIONS: dict[tuple[str, str], object] = {}


def register_reveal_condition(role: str, kind: str, condition) -> None:
    """Declare when ``role`` may reveal ``kind`` on a case: ``condition(user, case_id, today) ->
    bool`` (a conditional reveal of :data:`CONDITIONAL_REVEALS`). Call from ``AppConfig.ready``."""
    if (role, kind) not in CONDITIONAL_REVEALS:
        raise ValueError(f"{role} may reveal {kind} without a condition, or not at all")
    REVEAL_CONDITIONS[(role, kind)] = condition


def revealable_kinds(user, case_id: int, today: date) -> frozenset[str]:
    """The kinds of personal value ``user`` may reveal in full on a case they can already see.

    A field agent may reveal an address only on the day of their own planned visit to that case
    (unless another of their roles allows addresses anyway).
    """
    roles = scope_for(user).roles
    kinds = set()
    for kind in {k for r in roles for k in REVEAL.get(r, ())}:
        granting = [r for r in roles if kind in REVEAL.get(r, ())]
        if any((r, kind) not in CONDITIONAL_REVEALS for r in granting):
            kinds.add(kind)
        elif any(REVEAL_CONDITIONS.get((r, kind), _never)(user, case_id, today) for r in granting):
            kinds.add(kind)
    return frozenset(kinds)


def _never(user, case_id, today) -> bool:
    return False


def can_reveal(user, kind: str, case_id: int, today: date) -> bool:
    """May ``user`` see the full ``kind`` value of a case they can already see?"""
    return kind in REVEAL_KINDS and kind in revealable_kinds(user, case_id, today)


#: How a view declares its data scope; the permission-matrix test refuses a route without one.
#: ``case``: the URL names one case (``pk``), answered 404 outside the scope; ``case_list``: lists
#: cases, only those in scope; ``none``: serves no case data (schema, health).
SCOPE_KINDS = frozenset({"case", "case_list", "none"})


def declares_scope(kind: str):
    """Decorator for a view function (or class attribute ``arrears_scope`` on a view class)."""
    if kind not in SCOPE_KINDS:
        raise ValueError(f"unknown scope kind {kind!r}")

    def deco(view):
        view.arrears_scope = kind
        return view

    return deco
