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
effect at the user's next request.

Revealing a full personal value (``REVEAL``) is allowed per role and kind of value; a field agent
may see a visit address only on the day of their own visit to that case (DESIGN §4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from arrears.contexts.org.users.services import user_roles

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


def scope_for(user) -> Scope:
    """The user's scope, read from their roles, team, agency and assignments now."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(frozenset(), NOTHING, True)
    roles = frozenset(r.code for r in user_roles(user))
    if user.is_superuser or "administrator" in roles:
        return Scope(roles, None, False)
    if roles & READ_ALL_ROLES:
        return Scope(roles, None, not (roles - READ_ALL_ROLES))
    parts: list[Q] = []
    if "collector" in roles:
        parts.append(Q(assigned_to=user))
    if "team_leader" in roles:
        parts.append(Q(team__leader=user) | Q(assigned_to__staff_profile__team__leader=user))
        from arrears.contexts.contact.fieldwork.models import FieldVisit  # field team leaders: their teams' visits

        parts.append(Q(pk__in=FieldVisit.objects.filter(team__leader=user).values("case_id")))
    if "field_agent" in roles:
        from arrears.contexts.contact.fieldwork.models import FieldVisit

        parts.append(Q(pk__in=FieldVisit.objects.filter(Q(agent=user) | Q(partner=user))
                       .exclude(status__in=(FieldVisit.Status.CANCELLED, FieldVisit.Status.REJECTED)).values("case_id")))
    if "legal_officer" in roles:
        from arrears.contexts.legal.models import LegalReferral

        parts.append(Q(pk__in=LegalReferral.objects.filter(status__in=LegalReferral.ACTIVE).values("case_id")))
    if "customer_service" in roles:
        from arrears.contexts.money.servicing.models import ServiceContact

        parts.append(Q(customer_id__in=ServiceContact.objects.filter(Q(handled_by=user) | Q(routed_to=user))
                       .values("customer_id")))
    if "agency_collector" in roles:
        agency_id = getattr(getattr(user, "staff_profile", None), "agency_id", None)
        if agency_id is not None:
            from arrears.contexts.org.agencies.models import Placement

            parts.append(Q(pk__in=Placement.objects.filter(agency_id=agency_id, recalled_on__isnull=True)
                           .values("case_id")))
    q = NOTHING
    for p in parts:
        q = p if q is NOTHING else q | p
    return Scope(roles, q, False)


def visible_cases(user) -> QuerySet[Case]:
    """All cases ``user`` may see now (the base queryset of every case read)."""
    s = scope_for(user)
    # every rule is a semi-join or a chain of to-one joins, so no case is repeated
    return Case.objects.all() if s.q is None else Case.objects.filter(s.q)


def revealable_kinds(user, case_id: int, today: date) -> frozenset[str]:
    """The kinds of personal value ``user`` may reveal in full on a case they can already see.

    A field agent may reveal an address only on the day of their own planned visit to that case
    (unless another of their roles allows addresses anyway).
    """
    roles = scope_for(user).roles
    kinds = {k for r in roles for k in REVEAL.get(r, ())}
    address_by_other_role = any("address" in REVEAL.get(r, ()) for r in roles - {"field_agent"})
    if "address" in kinds and not address_by_other_role:
        from arrears.contexts.contact.fieldwork.models import FieldVisit

        if not FieldVisit.objects.filter(Q(agent=user) | Q(partner=user), case_id=case_id, scheduled_on=today,
                                         status__in=(FieldVisit.Status.PLANNED, FieldVisit.Status.IN_PROGRESS)).exists():
            kinds.discard("address")
    return frozenset(kinds)


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
