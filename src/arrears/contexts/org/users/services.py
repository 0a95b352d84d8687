"""Users and roles: writes.

Roles are auth groups named by role code (:mod:`arrears.contexts.org.users.roles`).
"""
from __future__ import annotations

import logging
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .roles import ROLES, Role

log = logging.getLogger(__name__)


def ensure_roles(using: str = "default") -> dict[str, Group]:
    """Create the role groups if missing and grant each its admin *view* permissions.

    Idempotent; permissions of apps not migrated yet are skipped (the next call grants them).
    Returns the groups by role code.
    """
    groups: dict[str, Group] = {}
    with transaction.atomic(using=using):
        for r in ROLES:
            group, _ = Group.objects.using(using).get_or_create(name=r.code)
            groups[r.code] = group
            # exactly the declared permissions: a permission removed from a role is taken back
            group.permissions.set(_view_permissions(r, using))
    return groups


def _view_permissions(r: Role, using: str) -> list[Permission]:
    perms = []
    for dotted in r.admin_view:
        app_label, model = dotted.split(".")
        perm = (
            Permission.objects.using(using)
            .filter(content_type__app_label=app_label, content_type__model=model, codename=f"view_{model}")
            .first()
        )
        if perm is not None:
            perms.append(perm)
    return perms


def user_roles(user) -> list[Role]:
    """The roles of ``user`` (their groups that are roles), in the order of :data:`ROLES`.

    Read once per user object (a request loads its user afresh) and kept on it, like Django's own
    permission cache; :func:`forget_roles` drops it after the user's groups change."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_arrears_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = user._arrears_roles = [r for r in ROLES if r.code in names]
    return list(cached)


def forget_roles(user) -> None:
    """Drop the roles :func:`user_roles` keeps on ``user`` (call after changing their groups)."""
    try:
        del user._arrears_roles  # (works through a lazy request.user too)
    except AttributeError:
        pass


def ensure_demo_users(password: str | None = None) -> list[tuple[str, str, str | None]]:
    """Create one demo user per role; username = role code (``collector``, ``team_leader`` …).

    - ``password`` given: every demo user gets it (also existing ones, so a re-run with the same
      password leaves the same state).
    - ``password`` ``None``: a new user gets a random password (``secrets``) which is returned so
      the caller can print it once; an existing user keeps theirs and ``None`` is returned for it.

    Each user is put in their role's group and given the role's staff/superuser flags
    (administrator: staff + superuser; team leader and compliance officer: staff, for reading
    the admin). Idempotent. Returns ``[(username, role code, password or None), …]``.
    """
    User = get_user_model()
    groups = ensure_roles()
    out: list[tuple[str, str, str | None]] = []
    with transaction.atomic():
        for r in ROLES:
            user, created = User.objects.get_or_create(username=r.code)
            shown: str | None = None
            if password is not None:
                user.set_password(password)
                shown = password
            elif created or not user.has_usable_password():
                shown = secrets.token_urlsafe(12)
                user.set_password(shown)
            user.is_active = True
            user.is_staff = r.staff
            user.is_superuser = r.superuser
            user.save()
            user.groups.add(groups[r.code])
            out.append((user.username, r.code, shown))
            log.debug("demo user %s (%s) %s", user.username, r.code, "created" if created else "updated")
    return out


def sync_flags_with_roles(user) -> None:
    """Make ``is_staff``/``is_superuser`` follow the user's roles (groups) now.

    Roles are the one source of truth: taking the administrator role away takes the superuser flag
    away at the user's next request. Called on every change of a user's groups.
    """
    roles = user_roles(user)
    staff, superuser = any(r.staff for r in roles), any(r.superuser for r in roles)
    if (user.is_staff, user.is_superuser) != (staff, superuser):
        type(user).objects.filter(pk=user.pk).update(is_staff=staff, is_superuser=superuser)
        user.is_staff, user.is_superuser = staff, superuser
