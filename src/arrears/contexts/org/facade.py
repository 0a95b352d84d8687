"""The org context owns the organisation — roles (Django groups), teams and staff profiles (capacity, skills, languages, districts), external agencies (委外) and their placements.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context
#
# The compliance gate reads a case's agency placement; the phone desk and field visits read who
# works in which team and who leads it. Model imports inside the functions: this module stays light.

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

#: the department of the field teams (``Team.department``)
FIELD_DEPARTMENT = "field"


def open_placement_rows(case_id: int):
    """The case's placement with an agency not recalled yet as an unevaluated values query of the
    compliance gate's *standing rows* ``(tag "p", placement id, NULL contact id, "" kind, NULL since,
    NULL until, NULL breached, agency code, placed on)`` — for the gate's one-statement
    ``UNION ALL`` read; evaluate it only that way."""
    from django.db.models import BigIntegerField, BooleanField, CharField, DateTimeField, Value
    from django.db.models.functions import Cast

    from .agencies.models import Placement

    def null(field):  # typed: PostgreSQL matches the columns of a UNION by type
        return Cast(Value(None), output_field=field)

    return Placement.objects.filter(case_id=case_id, recalled_on__isnull=True).order_by().values_list(
        Value("p", output_field=CharField()), "pk", null(BigIntegerField()), Value("", output_field=CharField()),
        null(DateTimeField()), null(DateTimeField()), null(BooleanField()), "agency__code", "placed_on")


def recalled_from(case_id: int, agency_code: str) -> bool:
    """Was the case placed with agency ``agency_code`` and recalled from it?"""
    from .agencies.models import Placement

    return Placement.objects.filter(case_id=case_id, agency__code=agency_code, recalled_on__isnull=False).exists()


def agency_whitelisted(agency_code: str) -> bool:
    """Is agency ``agency_code`` on the bank's whitelist? ``False`` for an unknown code."""
    from .agencies.models import Agency

    return bool(Agency.objects.filter(code=agency_code).values_list("whitelisted", flat=True).first())


def team_of(user_id: int) -> int | None:
    """The team id of a staff member (``None``: no team, or no staff profile)."""
    from .users.models import StaffProfile

    return StaffProfile.objects.filter(user_id=user_id).values_list("team_id", flat=True).first()


@dataclass(frozen=True)
class StaffTeam:
    """A staff member's team: its id and name (``None`` / ``""``: no team)."""

    team_id: int | None
    team_name: str


def staff_teams(user_ids: Iterable[int]) -> dict[int, StaffTeam]:
    """User id → their team, for the users with a staff profile. One query."""
    from .users.models import StaffProfile

    return {u: StaffTeam(t, n or "") for u, t, n in StaffProfile.objects.filter(user_id__in=list(user_ids))
            .values_list("user_id", "team_id", "team__name")}


def leads_team(user_id: int, team_id: int) -> bool:
    """Is the user the leader of team ``team_id``?"""
    from .users.models import Team

    return Team.objects.filter(pk=team_id, leader_id=user_id).exists()


def members_of_teams_led_by(user_id: int) -> list[int]:
    """The user ids of the members of every team the user leads. One query."""
    from .users.models import StaffProfile

    return list(StaffProfile.objects.filter(team__leader_id=user_id).values_list("user_id", flat=True))


@dataclass(frozen=True)
class TeamFacts:
    """A team: ``department`` (``collection``, ``field``, ``legal``, ``service``), its leader's user
    id (``None``: none), the districts it covers (field teams; empty = any) and whether it works."""

    id: int
    name: str
    department: str
    leader_id: int | None
    districts: tuple[str, ...]
    active: bool


_TEAM_COLUMNS = ("id", "name", "department", "leader_id", "districts", "active")


def _team(row) -> TeamFacts:
    return TeamFacts(row[0], row[1], row[2], row[3], tuple(row[4] or ()), row[5])


def team(team_id: int | None) -> TeamFacts | None:
    """Team ``team_id`` (``None``: no such team, or no id)."""
    from .users.models import Team

    if not team_id:
        return None
    row = Team.objects.filter(pk=team_id).values_list(*_TEAM_COLUMNS).first()
    return _team(row) if row else None


def field_teams(*, active_only: bool = True, led_by: int | None = None, order_by: str = "id") -> list[TeamFacts]:
    """The field teams in ``order_by`` order (``"id"`` or ``"name"``): only working ones when
    ``active_only``, only those user ``led_by`` leads when given. One query."""
    from .users.models import Team

    qs = Team.objects.filter(department=FIELD_DEPARTMENT)
    if active_only:
        qs = qs.filter(active=True)
    if led_by is not None:
        qs = qs.filter(leader_id=led_by)
    return [_team(r) for r in qs.order_by(order_by).values_list(*_TEAM_COLUMNS)]


def team_members(team_id: int, *, role: str | None = None, active_only: bool = False,
                 present_on: date | None = None) -> list[int]:
    """The user ids of team ``team_id``'s members, ascending: with role (group) ``role`` when given,
    active users only when ``active_only``, not absent on ``present_on`` when given. One query."""
    from .users.models import StaffProfile

    qs = StaffProfile.objects.filter(team_id=team_id)
    if role is not None:
        qs = qs.filter(user__groups__name=role)
    if active_only:
        qs = qs.filter(user__is_active=True)
    if present_on is not None:
        qs = qs.exclude(absent_from__lte=present_on, absent_until__gte=present_on)
    return list(dict.fromkeys(qs.order_by("user_id").values_list("user_id", flat=True)))



# ---------------------------------------------------------------- used by money and strategy


def teams_sql() -> str:
    """Every team as a relation for another context's set-based SQL (``FROM ({teams_sql()}) t``):
    a ``SELECT`` without parameters yielding ``team_id``, ``name``, ``department``
    (``collection`` | ``field`` | ``legal`` | ``service``), ``buckets`` / ``languages`` /
    ``districts`` (JSON arrays as stored, text; an empty array: any) and ``active`` (boolean)."""
    from .users.models import Team

    return (f"SELECT id AS team_id, name, department, buckets, languages, districts, active "
            f"FROM {Team._meta.db_table}")


def agents_sql() -> str:
    """Every staff member with a profile as a relation (``FROM ({agents_sql()}) g``): ``agent_id``
    (the user id), ``team_id`` and ``agency_id`` (NULL when none; an agency's staff have one),
    ``capacity`` (open cases at most; 0 = none), ``absent_from`` / ``absent_until`` (dates or NULL)
    and ``active`` (the user account is active)."""
    from django.contrib.auth import get_user_model

    from .users.models import StaffProfile

    return (f"SELECT p.user_id AS agent_id, p.team_id, p.agency_id, p.capacity, p.absent_from, p.absent_until, "
            f"u.is_active AS active FROM {StaffProfile._meta.db_table} p "
            f"JOIN {get_user_model()._meta.db_table} u ON u.id = p.user_id")


def agencies_sql() -> str:
    """Every collection agency as a relation (``FROM ({agencies_sql()}) ag``): ``agency_id``,
    ``code``, ``pool`` (the placement pool), ``capacity`` (active placements at most) and
    ``active`` (boolean)."""
    from .agencies.models import Agency

    return f"SELECT id AS agency_id, code, pool, capacity, active FROM {Agency._meta.db_table}"


def placements_sql() -> str:
    """Every placement of a case with an agency as a relation (``FROM ({placements_sql()}) p``):
    ``placement_id``, ``case_id``, ``agency_id``, ``placed_on``, ``recall_due_on`` (NULL: none
    agreed), ``recalled_on`` (NULL while active), ``recall_reason`` and ``extensions`` (times
    retained)."""
    from .agencies.models import Placement

    return (f"SELECT id AS placement_id, case_id, agency_id, placed_on, recall_due_on, recalled_on, recall_reason, "
            f"extensions FROM {Placement._meta.db_table}")


def team_names() -> dict[int, str]:
    """``{team id: team name}`` of every team."""
    from .users.models import Team

    return dict(Team.objects.values_list("id", "name"))


def agency_codes() -> dict[int, str]:
    """``{agency id: agency code}`` of every agency."""
    from .agencies.models import Agency

    return dict(Agency.objects.values_list("id", "code"))


def place_cases(rows) -> int:
    """New active placements in bulk: rows of ``(case_id, agency_id, placed_on, recall_due_on)``
    (the database refuses a second active placement of a case). Call inside the caller's
    transaction; the caller records the ``placed`` timeline events. Returns the row count."""
    from arrears.core import dbio

    from .agencies.models import Placement

    return dbio.bulk_insert(Placement._meta.db_table,
                            ("case_id", "agency_id", "placed_on", "recall_due_on", "recalled_on", "recall_reason",
                             "extensions"),
                            ((c, a, on, due, None, "", 0) for c, a, on, due in rows))


def recall_placements(rows) -> int:
    """Recall placements in bulk: rows of ``(placement_id, recalled_on, recall_reason)``. Returns
    the row count."""
    from arrears.core import dbio

    from .agencies.models import Placement

    return dbio.bulk_update(Placement._meta.db_table, "id", ("recalled_on", "recall_reason"), rows)


def retain_placements(rows) -> int:
    """Extend placements in bulk: rows of ``(placement_id, recall_due_on, extensions)``. Returns
    the row count."""
    from arrears.core import dbio

    from .agencies.models import Placement

    return dbio.bulk_update(Placement._meta.db_table, "id", ("recall_due_on", "extensions"), rows)




# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


def user_role_codes(user) -> frozenset[str]:
    """The codes of ``user``'s roles (``collector``, ``team_leader`` …); empty for an anonymous
    user. Read once per user object (:func:`arrears.contexts.org.users.services.user_roles`)."""
    from .users.services import user_roles

    return frozenset(r.code for r in user_roles(user))


def user_role_labels(user) -> list[str]:
    """The names of ``user``'s roles in the active language, in the roles' order."""
    from .users.services import user_roles

    return [str(r.label) for r in user_roles(user)]


def placed_case_ids(user):
    """For a user of an external agency: the ids of the cases placed with their agency and not
    recalled, as a subquery (a lazy ``values("case_id")`` queryset, for a ``pk__in`` filter);
    ``None`` when the user belongs to no agency."""
    agency_id = getattr(getattr(user, "staff_profile", None), "agency_id", None)
    if agency_id is None:
        return None
    from .agencies.models import Placement

    return Placement.objects.filter(agency_id=agency_id, recalled_on__isnull=True).values("case_id")

# ---------------------------------------------------------------- re-exported for other contexts
# (presentation helpers, the data scope, services another context calls as they are)
from .users.services import ensure_demo_users, user_roles  # noqa: E402,F401
