"""Timeline event kinds the money code writes on a case (registered from ``PaymentsConfig.ready``
with :func:`arrears.contexts.casework.models.register_event_kinds`, so the timeline names them in Chinese
and English). Labels are module constants: registering twice is a no-op."""
from django.utils.translation import gettext_lazy as _

EVENT_KINDS = {
    "payment_posted": _("收到还款"),
    "payment_reversed": _("还款冲正"),
    "residual_written_off": _("尾差核销"),
    "waiver_recorded": _("减免入账"),
    "promise_taken": _("承诺还款"),
    "promise_kept": _("承诺已兑现"),
    "promise_partly_kept": _("承诺部分兑现"),
    "promise_broken": _("承诺跳票"),
    "promise_cancelled": _("承诺取消"),
}
