from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "arrears.contexts.contact.desk"
    label = "desk"
    verbose_name = _("电话催收")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds

        register_event_kinds(EVENT_KINDS)

        # the strategy (left of contact) imports no contact code: the queue follows its re-decisions
        # and the strategy reads the ledger and visits through what contact registers with it
        from arrears.contexts.contact.facade import connect_to_strategy

        connect_to_strategy()


#: the desk's timeline event kinds (the assignment itself uses the core ``assigned`` kind)
EVENT_KINDS = {
    "desk_claimed": _("领取案件"),
    "desk_released": _("案件回到队列"),
    "desk_deferred": _("暂不可拨打，顺延"),
    "desk_dialed": _("拨号"),
    "desk_outcome": _("通话结果"),
    "desk_number_status": _("号码状态变化"),
    "desk_restriction": _("联络限制"),
    "desk_hold": _("暂停催收事由"),
}
