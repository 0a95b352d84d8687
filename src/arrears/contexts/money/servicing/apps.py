from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def customers_served_by(user):
    """Scope: customer service sees the cases of customers who contacted them or were routed to them."""
    from django.db.models import Q

    from .models import ServiceContact

    return ServiceContact.objects.filter(Q(handled_by=user) | Q(routed_to=user)).values("customer_id")


class ServicingConfig(AppConfig):
    name = "arrears.contexts.money.servicing"
    label = "servicing"
    verbose_name = _("客服")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds, register_scope_rule
        from arrears.contexts.strategy.facade import register_relation

        from .events import event_kinds
        from .selectors import holds_relation

        register_event_kinds(event_kinds())
        # the strategy reads collection holds as a relation (it may not import money)
        register_relation("collection_holds", holds_relation)
        register_scope_rule("customer_service", customer_ids=customers_served_by)
