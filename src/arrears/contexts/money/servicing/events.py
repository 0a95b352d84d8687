"""Timeline event kinds of payment plans and settlements (``plan_<status>`` and
``settlement_<status>``, written by :mod:`arrears.contexts.money.servicing.services`), registered from
``ServicingConfig.ready`` so the timeline names them in Chinese and English."""
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
}
