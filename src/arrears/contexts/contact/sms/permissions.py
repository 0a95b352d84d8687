"""Who may see and change SMS templates (the one place the rule lives).

==================  =====================  ==============================
role                template page (read)   save / activate a version
==================  =====================  ==============================
supervisor          yes                    yes
administrator       yes                    yes
compliance_officer  yes                    no (reviews content)
team_leader         yes                    no
everyone else       no (403)               no (403)
==================  =====================  ==============================

Sending an SMS on a case needs the case in the user's data scope and a role that may write
(compliance officers and supervisors see every case read-only).
"""
from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from arrears.contexts.org.facade import user_roles

VIEW_ROLES = frozenset({"supervisor", "team_leader", "compliance_officer", "administrator"})
MANAGE_ROLES = frozenset({"supervisor", "administrator"})


def _roles(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    roles = frozenset(r.code for r in user_roles(user))
    return roles | {"administrator"} if user.is_superuser else roles


def can_view(user) -> bool:
    return bool(_roles(user) & VIEW_ROLES)


def can_manage(user) -> bool:
    return bool(_roles(user) & MANAGE_ROLES)


def template_permission(kind: str):
    """View decorator: ``"view"`` or ``"manage"``; 403 otherwise. Sets ``arrears_roles``."""
    check, roles = {"view": (can_view, VIEW_ROLES), "manage": (can_manage, MANAGE_ROLES)}[kind]

    def deco(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.arrears_roles = roles
        return wrapped

    return deco
