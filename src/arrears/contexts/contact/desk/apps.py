from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "arrears.contexts.contact.desk"
    label = "desk"
    verbose_name = _("电话催收")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_event_kinds

        register_event_kinds(event_kinds())
        from arrears.contexts.casework.facade import register_event_describer
        from arrears.contexts.contact.words import DESK_DESCRIBERS

        for code, describer in DESK_DESCRIBERS.items():  # the timeline reads them in words, never codes
            register_event_describer(code, describer)
        from arrears.contexts.casework.facade import register_case_panel

        register_case_panel("contact_history", contact_history_panel)  # the case page lists every contact

        # the strategy (left of contact) imports no contact code: the queue follows its re-decisions
        # and the strategy reads the ledger and visits through what contact registers with it
        from arrears.contexts.contact.facade import connect_to_strategy

        connect_to_strategy()


def contact_history_panel(request, case_id: int):
    """The case page's contact history: every call, SMS, visit, other attempt and note."""
    from arrears.contexts.casework.facade import case_header

    from .history import contact_history

    header = case_header(case_id)
    return contact_history(case_id, header.customer_id) if header is not None else None


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


def event_kinds() -> dict:
    """The desk's timeline kinds, typed; a restriction and a hold are audited with their event."""
    from arrears.contexts.casework.facade import NONE, AuditRule, KindSpec

    opt_int, opt_str = (int, NONE), (str, NONE)
    return {
        "desk_claimed": KindSpec(EVENT_KINDS["desk_claimed"], required={"pool": bool}),
        "desk_released": KindSpec(EVENT_KINDS["desk_released"],
                                   optional={"result_code": str, "next": str, "reason": str}),
        "desk_deferred": KindSpec(EVENT_KINDS["desk_deferred"], required={"until": str, "rule_ids": list}),
        "desk_dialed": KindSpec(EVENT_KINDS["desk_dialed"], required={
            "call": int, "contact": int, "party": str, "purpose": str, "decision": str, "rule_ids": list,
            "dialer": str}),
        "desk_outcome": KindSpec(EVENT_KINDS["desk_outcome"], required={"call": int}, optional={
            "dial_failed": opt_str, "action_code": str, "result_code": str, "rpc": bool, "party": str,
            "promise": opt_int, "callback_at": opt_str, "recording_id": str, "recording_seconds": opt_int,
            "notes": str}),
        "desk_number_status": KindSpec(EVENT_KINDS["desk_number_status"],
                                        required={"contact": int, "call": opt_int}),
        "desk_restriction": KindSpec(EVENT_KINDS["desk_restriction"],
                                      required={"contact": opt_int, "kind": str, "call": int},
                                      audit=(AuditRule("contact.restricted"),)),
        "desk_hold": KindSpec(EVENT_KINDS["desk_hold"], required={"hold": int, "kind": str, "call": int},
                               audit=(AuditRule("collection.hold_opened"),)),
    }
