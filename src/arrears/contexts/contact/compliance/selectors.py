"""Read-only compliance views for the desk: may the debtor be phoned, texted or visited right now,
and if not, why and from when. Calls the pure gate; writes nothing (no timeline event)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arrears.contexts.casework import facade as casework
from arrears.contexts.portfolio import facade as portfolio
from arrears.domain.compliance import decide

from . import services

#: the panel's rows: channel, its label, the debtor's contact kinds to use (first found)
PANEL_CHANNELS = (
    ("phone", _("电话"), ("mobile", "home_phone", "work_phone")),
    ("sms", _("短信"), ("mobile",)),
    ("field_visit", _("外访"), ("home_address", "work_address")),
)
DECISION_LABELS = {
    "allow": _("允许"),
    "allow_flagged": _("允许（有提示）"),
    "escalate": _("需主管审批"),
    "deny": _("禁止"),
}


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    label: str
    decision: str
    decision_label: str
    allowed: bool
    reasons: list[str]
    rule_ids: list[str]
    next_allowed_local: str  # "YYYY-MM-DD HH:MM (zone)" in the debtor's time zone, or ""


@dataclass(frozen=True)
class ContactStatus:
    rows: list[ChannelStatus]
    pack_version: str
    timezone: str


def contact_status(case, now: datetime) -> ContactStatus:
    """Phone, SMS and field visit to the debtor at ``now``: the gate's answer per channel.
    ``case``: a case id (or anything with its ``id``); raises
    :class:`~arrears.contexts.casework.selectors.CaseNotFound` for an unknown case."""
    case_id = case if isinstance(case, int) else case.id
    case = casework.case_header(case_id)
    if case is None:
        from arrears.contexts.casework.facade import CaseNotFound

        raise CaseNotFound(case_id)
    customer = portfolio.customer_facts(case.customer_id)
    contacts = portfolio.contact_points(customer.id)
    tz = ZoneInfo(customer.timezone)
    pack = services.default_pack()
    facts = services.build_facts(customer, case, contacts=contacts)
    history = services.build_history(customer, now)
    english = (get_language() or "").startswith("en")
    rows = []
    pack_version = ""
    for channel, label, kinds in PANEL_CHANNELS:
        contact = next((c for k in kinds for c in contacts if c.party == "debtor" and c.kind == k), None)
        action = services.proposed_action(at=now, channel=channel, contact=contact, party="debtor",
                                          purpose="collect", content=None, caller_kind="bank", caller=None)
        d = decide(action, facts, history, pack, now)
        pack_version = d.pack_version
        nxt = d.next_allowed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") + f" ({customer.timezone})" \
            if d.next_allowed_at else ""
        rows.append(ChannelStatus(
            channel=channel, label=str(label), decision=d.decision, decision_label=str(DECISION_LABELS[d.decision]),
            allowed=d.allowed, reasons=[f"{r.rule_id}: {r.en if english else r.zh}" for r in d.reasons],
            rule_ids=d.rule_ids, next_allowed_local=nxt,
        ))
    return ContactStatus(rows, pack_version, customer.timezone)
