from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.db.models.signals import post_migrate

#: Apps whose permissions roles are granted; re-synced after each of them is migrated.
_SYNC_AFTER = {"users", "portfolio", "payments", "cases", "audit"}


class UsersConfig(AppConfig):
    name = "arrears.apps.users"
    label = "users"
    verbose_name = _("用户与团队")

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, dispatch_uid="arrears.users.ensure_roles")


def _ensure_roles(sender, using="default", **kwargs) -> None:
    # Groups are seeded by migration 0001_roles; this also restores them after a flush and grants
    # the admin read permissions, which exist only once each app's post_migrate has run.
    if getattr(sender, "label", None) not in _SYNC_AFTER:
        return
    from .services import ensure_roles

    ensure_roles(using=using)
