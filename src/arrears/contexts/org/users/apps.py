from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.db.models.signals import post_migrate

#: Apps whose permissions roles are granted; re-synced after each of them is migrated.
_SYNC_AFTER = {"users", "portfolio", "payments", "cases", "audit"}


class UsersConfig(AppConfig):
    name = "arrears.contexts.org.users"
    label = "users"
    verbose_name = _("用户与团队")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        post_migrate.connect(_ensure_roles, dispatch_uid="arrears.users.ensure_roles")
        m2m_changed.connect(_roles_changed, sender=get_user_model().groups.through,
                            dispatch_uid="arrears.users.sync_flags")


def _ensure_roles(sender, using="default", **kwargs) -> None:
    # Groups are seeded by migration 0001_roles; this also restores them after a flush and grants
    # the admin read permissions, which exist only once each app's post_migrate has run.
    if getattr(sender, "label", None) not in _SYNC_AFTER:
        return
    from .services import ensure_roles

    ensure_roles(using=using)


def _roles_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from django.contrib.auth import get_user_model

    from .services import forget_roles, sync_flags_with_roles

    User = get_user_model()
    if not reverse:
        forget_roles(instance)
        sync_flags_with_roles(instance)
    elif pk_set:  # a group's members changed
        for user in User.objects.filter(pk__in=pk_set):
            sync_flags_with_roles(user)
