"""Timeline event kinds of payment plans and settlements (``plan_<status>`` and
``settlement_<status>``, written by :mod:`arrears.contexts.money.servicing.services`), registered from
``ServicingConfig.ready`` so the timeline names them in Chinese and English and every event's data
is checked. Every move of a plan or a settlement is audited (``servicing.plan_<status>``,
``servicing.settlement_<status>``) with its event, in one call."""
from django.utils.translation import gettext_lazy as _

EVENT_KINDS = {
    "plan_proposed": _("分期申请"),
    "plan_approved": _("分期审批"),
    "plan_active": _("分期签署生效"),
    "plan_completed": _("分期结清"),
    "plan_breached": _("分期违约"),
    "plan_rejected": _("分期拒绝"),
    "plan_cancelled": _("分期取消"),
    "settlement_requested": _("减免申请"),
    "settlement_approved": _("减免审批"),
    "settlement_paid": _("减免结清"),
    "settlement_void": _("减免失效"),
    "settlement_rejected": _("减免拒绝"),
    "settlement_cancelled": _("减免取消"),
    "settlement_reopened": _("减免重新打开"),
}


def event_kinds() -> dict:
    """The kinds with their data (amounts as decimal strings) and audit actions."""
    from arrears.contexts.casework.facade import AuditRule, KindSpec

    def audited(code):
        return (AuditRule(f"servicing.{code}"),)

    kinds = {
        "plan_proposed": KindSpec(EVENT_KINDS["plan_proposed"], required={"plan": int, "total": str, "term_months": int},
                                   audit=audited("plan_proposed")),
        "settlement_requested": KindSpec(EVENT_KINDS["settlement_requested"],
                                          required={"settlement": int, "owed": str, "waived": str},
                                          audit=audited("settlement_requested")),
        # a payment reversal reopened a paid settlement (its move is audited as settlement_<status>)
        "settlement_reopened": KindSpec(EVENT_KINDS["settlement_reopened"],
                                         required={"settlement": int, "to": str, "paid": str}),
    }
    for code in EVENT_KINDS:
        if code.startswith("plan_") and code not in kinds:  # a move's details ride along (signature, dpd …)
            kinds[code] = KindSpec(EVENT_KINDS[code], required={"plan": int}, open=True, audit=audited(code))
        elif code.startswith("settlement_") and code not in kinds:
            kinds[code] = KindSpec(EVENT_KINDS[code], required={"settlement": int, "waived": str, "payoff": str},
                                    audit=audited(code))
    return kinds
