from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "arrears.contexts.contact.sms"
    label = "sms"
    verbose_name = _("短信")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds

        register_event_kinds({
            "sms_status": _("短信"),
            "sms_reply": _("短信回复"),
            "sms_opt_out": _("短信退订"),
            "sms_number_flagged": _("号码异常"),
        })
        from arrears.contexts.audit.retention import register_eraser

        from .services import erase_customer_sms_data

        register_eraser("sms", erase_customer_sms_data)
