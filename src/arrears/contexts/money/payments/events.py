"""Timeline event kinds the money code writes on a case, typed (registered from ``PaymentsConfig.ready``
with :func:`arrears.contexts.casework.facade.register_event_kinds`, so the timeline names them in
Chinese and English and every event's data is checked). A posting, a reversal, a waiver, a residual
write-off and a promise taken are audited with their event, in one call. Labels are module
constants: registering twice is a no-op."""
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
