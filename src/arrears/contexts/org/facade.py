"""The org context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


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
