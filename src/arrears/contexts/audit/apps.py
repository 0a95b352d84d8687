from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "arrears.contexts.audit"
    label = "audit"
    verbose_name = "audit"

    def ready(self) -> None:
        from . import receivers
        from .retention import check_settings

        check_settings()  # refuses to start with a retention policy below the legal floors
        receivers.connect()
