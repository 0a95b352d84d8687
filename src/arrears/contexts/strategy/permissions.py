"""Who may see and change the collection strategy: the one place the rule lives.

==================  ====================  =============================
role                strategy page (read)  upload / activate (write)
==================  ====================  =============================
supervisor          yes                   yes
administrator       yes                   yes
team_leader         yes                   no
compliance_officer  yes                   no
everyone else       no (403)              no (403)
==================  ====================  =============================

A superuser counts as an administrator. The views use :func:`strategy_permission`; templates get
``can_manage`` from :func:`can_manage` so the upload form and activate buttons are only shown to
those who may use them (the views check again).
"""
from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from arrears.contexts.org.facade import user_roles

__all__ = ["VIEW_ROLES", "MANAGE_ROLES", "can_view", "can_manage", "strategy_permission"]

VIEW_ROLES = frozenset({"supervisor", "team_leader", "compliance_officer", "administrator"})
MANAGE_ROLES = frozenset({"supervisor", "administrator"})


def _roles(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    roles = frozenset(r.code for r in user_roles(user))
    return roles | {"administrator"} if user.is_superuser else roles


def can_view(user) -> bool:
    """May ``user`` open the strategy page (ladders, versions, diffs, action counts)?"""
    return bool(_roles(user) & VIEW_ROLES)


def can_manage(user) -> bool:
    """May ``user`` upload a new strategy version and activate a version?"""
    return bool(_roles(user) & MANAGE_ROLES)


def strategy_permission(kind: str):
    """View decorator: ``"view"`` or ``"manage"``; answers 403 (``PermissionDenied``) otherwise.

    Also sets ``view.arrears_roles`` (the roles allowed) so route-level tests can read the rule.
    """
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
