from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicingConfig(AppConfig):
    name = "arrears.contexts.money.servicing"
    label = "servicing"
    verbose_name = _("客服")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds
        from arrears.contexts.strategy.facade import register_relation

        from .events import EVENT_KINDS
        from .selectors import holds_relation

        register_event_kinds(EVENT_KINDS)
        # the strategy reads collection holds as a relation (it may not import money)
        register_relation("collection_holds", holds_relation)
