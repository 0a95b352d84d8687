from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

#: timeline event kinds of field visits (the same label objects on every ``ready``)
EVENT_KINDS = {"field_visit": _("外访"), "field_visit_report": _("外访报告"),
               "field_safety_alert": _("外访安全警报")}


class FieldworkConfig(AppConfig):
    name = "arrears.contexts.contact.fieldwork"
    label = "fieldwork"
    verbose_name = _("外访")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds

        register_event_kinds(EVENT_KINDS)
        from arrears.contexts.audit.retention import register_eraser

        from .services import erase_customer_visit_data

        register_eraser("fieldwork", erase_customer_visit_data)
