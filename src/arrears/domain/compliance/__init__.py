"""Compliance gate (合规闸口): may this contact happen, and if not, why and until when?

Pure domain code (stdlib and :mod:`zoneinfo` only; no Django, DuckDB or Polars; no clock). One
entry point for every channel — :func:`decide` — plus checks on non-contact artefacts (letters,
plans, fees, recordings, data feeds …) in :mod:`.artifacts`.

* :mod:`.model` — the proposed action, facts, contact records and the decision with its reasons;
* :mod:`.pack` — rule packs as data: layers, strictest-wins, overlays that may only tighten;
* :mod:`.history` — the contact history indexed by local day, party and contact point;
* :mod:`.gate` — :func:`decide` and the registered checks (each implements RULES.md ids);
* :mod:`.artifacts` — letters, plans, fees, rates, recordings, exports, deadlines;
* :mod:`.content` — pack patterns and the bridge to :mod:`arrears.domain.screening`.

Usage::

    from arrears.rules.compliance_packs import load_compliance_pack
    pack = load_compliance_pack("cn")
    history = ContactHistory(records, tz="Asia/Shanghai")
    d = decide(ProposedAction(ts, "phone", contact_point="M1"), Facts(("Asia/Shanghai",)), history, pack, now)
    d.decision, d.rule_ids, d.next_allowed_at, d.pack_version
"""
from .gate import CHECKS, decide
from .history import ContactHistory
from .model import (
    Assignment,
    Attorney,
    Consent,
    ContactPoint,
    ContactRecord,
    Debt,
    Decision,
    Facts,
    Hold,
    InconvenientPlace,
    InconvenientTime,
    MediumBlock,
    Party,
    ProposedAction,
    Reason,
)
from .pack import Citation, Rule, RulePack, apply_overlay, build_pack

__all__ = [
    "decide", "CHECKS", "ContactHistory",
    "Assignment", "Attorney", "Consent", "ContactPoint", "ContactRecord", "Debt", "Decision", "Facts", "Hold",
    "InconvenientPlace", "InconvenientTime", "MediumBlock", "Party", "ProposedAction", "Reason",
    "Citation", "Rule", "RulePack", "apply_overlay", "build_pack",
]
