"""The org context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


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
