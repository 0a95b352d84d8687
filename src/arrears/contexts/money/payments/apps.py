from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "arrears.contexts.money.payments"
    label = "payments"
    verbose_name = _("还款")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds
        from arrears.contexts.strategy.facade import register_relation

        from .events import EVENT_KINDS
        from .selectors import payments_relation, promises_relation

        register_event_kinds(EVENT_KINDS)
        # the strategy reads payments and promises as relations (it may not import money)
        register_relation("payments", payments_relation)
        register_relation("promises", promises_relation)
