"""Timeline event kinds the money code writes on a case, typed (registered from ``PaymentsConfig.ready``
with :func:`arrears.contexts.casework.facade.register_event_kinds`, so the timeline names them in
Chinese and English and every event's data is checked). A posting, a reversal, a waiver, a residual
write-off and a promise taken are audited with their event, in one call. Labels are module
constants: registering twice is a no-op."""
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

EVENT_KINDS = {
    "payment_posted": _("收到还款"),
    "payment_reversed": _("还款冲正"),
    "residual_written_off": _("尾差核销"),
    "waiver_recorded": _("减免入账"),
    "adjustment_reversed": _("调整冲正"),
    "promise_taken": _("承诺还款"),
    "promise_kept": _("承诺已兑现"),
    "promise_partly_kept": _("承诺部分兑现"),
    "promise_broken": _("承诺跳票"),
    "promise_cancelled": _("承诺取消"),
}


def event_kinds() -> dict:
    """The kinds with their data (amounts as decimal strings) and audit actions."""
    from arrears.contexts.casework.facade import AuditRule, KindSpec

    def kind(code, audit=None, **keys):
        return KindSpec(EVENT_KINDS[code], required=keys, audit=(AuditRule(audit),) if audit else ())

    return {
        "payment_posted": kind("payment_posted", "payments.posted", payment=str, amount=str, allocation=dict,
                               credit=str, order=list),
        "payment_reversed": kind("payment_reversed", "payments.reversed", payment=str, amount=str, kind=str),
        "residual_written_off": kind("residual_written_off", "payments.residual_written_off", amount=str,
                                     payment=str),
        "waiver_recorded": kind("waiver_recorded", "payments.waived", kind=str, reference=str, amount=str),
        "adjustment_reversed": kind("adjustment_reversed", "payments.adjustment_reversed", kind=str, reference=str,
                                    amount=str),
        "promise_taken": kind("promise_taken", "payments.promise_taken", promise=int, amount=str, promised_on=str,
                              channel=str),
        **{code: kind(code, promise=int) for code in ("promise_kept", "promise_partly_kept", "promise_broken")},
        "promise_cancelled": kind("promise_cancelled", promises=list, plan=int),
    }


#: the channels a promise is taken on, in words (an unknown one reads "其他（code）")
PROMISE_CHANNELS = {"phone": _("电话"), "field_visit": _("外访"), "sms": _("短信"), "service": _("客服"),
                    "self_service": _("自助还款"), "agency": _("委外机构")}


def promise_channel_label(code: str) -> str:
    found = PROMISE_CHANNELS.get(code)
    return str(found) if found is not None else (gettext("其他（%(code)s）") % {"code": code} if code else "")


def _amount(f, key: str = "amount") -> str:
    from arrears.domain.money import format_money

    amount, currency = f.data.get(key), f.data.get("currency") or f.currency
    return format_money(amount, currency, get_language() or "zh-hans") if amount and currency else str(amount or "")


def describe_promise_taken(f) -> str:
    """``800.00 TWD · 承诺 2026-12-10 还款 · 电话``: a promise's amount (the case's currency), day and channel."""
    parts = [_amount(f), gettext("承诺 %(day)s 还款") % {"day": f.data.get("promised_on", "")},
             promise_channel_label(f.data.get("channel", ""))]
    return " · ".join(p for p in parts if p)


def describe_promise_evaluated(f) -> str:
    """A promise kept, partly kept or broken: the kind's own label says it all (no raw states)."""
    return ""


DESCRIBERS = {"promise_taken": describe_promise_taken,
              **{code: describe_promise_evaluated for code in ("promise_kept", "promise_partly_kept", "promise_broken",
                                                              "promise_cancelled")}}
