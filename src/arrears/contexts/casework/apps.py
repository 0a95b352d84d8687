from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "arrears.contexts.casework"
    label = "cases"
    verbose_name = _("案件")

    def ready(self) -> None:
        from .events import register_event_describer
        from .selectors import CORE_DESCRIBERS

        for code, describer in CORE_DESCRIBERS.items():
            register_event_describer(code, describer)
