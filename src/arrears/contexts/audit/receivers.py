"""Events recorded from signals: login, login failure, logout, lockout (django-axes), role changes.

Connected by :meth:`arrears.contexts.audit.apps.AuditConfig.ready`.
"""
from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_migrate

from . import dbguard


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="arrears.audit.login")
    user_logged_out.connect(_logged_out, dispatch_uid="arrears.audit.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="arrears.audit.login_failed")
    m2m_changed.connect(_groups_changed, sender=get_user_model().groups.through, dispatch_uid="arrears.audit.roles")
    post_migrate.connect(_reinstall_guard, dispatch_uid="arrears.audit.guard")
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        user_locked_out.connect(_locked_out, dispatch_uid="arrears.audit.lockout")


def _record(*args, **kwargs):
    from .services import record

    return record(*args, **kwargs)


def _logged_in(sender, request, user, **kwargs):
    _record("auth.login", actor=user, obj=user, request=request)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        _record("auth.logout", actor=user, obj=user, request=request)


def _login_failed(sender, credentials, request=None, **kwargs):
    # credentials arrive cleansed (the password masked); keep only the username as typed
    username = str((credentials or {}).get(get_user_model().USERNAME_FIELD) or (credentials or {}).get("username") or "")
    _record("auth.login_failed", data={"username": username[:150]}, request=request)


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    _record("auth.lockout", data={"username": str(username or "")[:150], "ip_address": ip_address or ""}, request=request)


def _groups_changed(sender, instance, action, reverse, model, pk_set, using, **kwargs):
    User = get_user_model()
    if action == "pre_clear":
        # remember what is about to go: post_clear carries no pk_set
        if reverse:
            instance._audit_cleared = list(instance.user_set.using(using).values_list("pk", flat=True))
        else:
            instance._audit_cleared = list(instance.groups.using(using).values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    ids = set(pk_set or ()) if action != "post_clear" else set(getattr(instance, "_audit_cleared", ()))
    if not ids:
        return
    verb = "added" if action == "post_add" else "removed"
    if reverse:  # group.user_set.add(...): one event per user
        for user in User.objects.using(using).filter(pk__in=ids):
            _role_event(user, {verb: [instance.name]}, using)
    else:
        names = sorted(Group.objects.using(using).filter(pk__in=ids).values_list("name", flat=True))
        _role_event(instance, {verb: names}, using)


def _role_event(user, change: dict, using: str) -> None:
    roles = sorted(user.groups.using(using).values_list("name", flat=True))
    _record("role.change", obj=user, data={**change, "roles": roles})


def _reinstall_guard(sender, using="default", **kwargs):
    if getattr(sender, "label", None) != "audit":
        return
    from django.db import connections

    connection = connections[using]
    if dbguard.TABLE in connection.introspection.table_names():
        dbguard.install(connection)
