from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "arrears.contexts.money.payments"
    label = "payments"
    verbose_name = _("还款")

    def ready(self) -> None:
        from arrears.contexts.casework.models import register_event_kinds

        from .events import EVENT_KINDS

        register_event_kinds(EVENT_KINDS)
