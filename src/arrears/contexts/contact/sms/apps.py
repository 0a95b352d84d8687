from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

#: the SMS timeline event kinds (the same label objects on every ``ready``)
EVENT_KINDS = {
    "sms_status": _("短信"),
    "sms_reply": _("短信回复"),
    "sms_opt_out": _("短信退订"),
    "sms_number_flagged": _("号码异常"),
}


def event_kinds() -> dict:
    """The SMS timeline kinds, typed (an SMS status carries the move's details along)."""
    from arrears.contexts.casework.facade import NONE, KindSpec

    return {
        "sms_status": KindSpec(EVENT_KINDS["sms_status"], required={"sms": int, "to": str, "template": str, "key": str},
                                optional={"from": str, "local_time": str, "origin": str}, open=True),
        "sms_reply": KindSpec(EVENT_KINDS["sms_reply"], required={"inbound": int}),
        "sms_opt_out": KindSpec(EVENT_KINDS["sms_opt_out"], required={"inbound": int, "contacts": list}),
        "sms_number_flagged": KindSpec(EVENT_KINDS["sms_number_flagged"],
                                        required={"contact": int, "reason": str, "sms": (int, NONE)}),
    }


class SmsConfig(AppConfig):
    name = "arrears.contexts.contact.sms"
    label = "sms"
    verbose_name = _("短信")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds

        register_event_kinds(event_kinds())
        from arrears.contexts.audit.facade import register_retention_eraser as register_eraser

        from .services import erase_customer_sms_data

        register_eraser("sms", erase_customer_sms_data)
