from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def case_page_panel(request, case_id: int):
    """The case page's strategy panel: the decision in force, why, and its history."""
    from .selectors import case_decision

    return case_decision(case_id)


class StrategyConfig(AppConfig):
    name = "arrears.contexts.strategy"
    label = "strategy"
    verbose_name = _("催收策略")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_case_panel

        register_case_panel("strategy_decision", case_page_panel)
