from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def case_page_panel(request, case_id: int):
    """The case page's contact-compliance panel: what the gate says about each channel now."""
    from django.utils import timezone

    from .selectors import contact_status

    return contact_status(case_id, timezone.now())


class ComplianceConfig(AppConfig):
    name = "arrears.contexts.contact.compliance"
    label = "compliance"
    verbose_name = _("合规")

    def ready(self) -> None:
        # the content screening's packaged lexicons come from rule data (the domain reads no files)
        import arrears.rules.lexicons  # noqa: F401
        from arrears.contexts.casework.facade import register_case_panel

        register_case_panel("compliance", case_page_panel)
        from arrears.contexts.casework.facade import register_event_describer
        from arrears.contexts.contact.words import GATE_DESCRIBERS

        for code, describer in GATE_DESCRIBERS.items():  # the gate's own timeline kinds, in words
            register_event_describer(code, describer)
