"""The compliance gate service: the ONE place every channel asks before contacting a debtor.

* the phone desk calls :func:`check_contact` before dialing and :func:`record_attempt` after;
* the SMS sender calls :func:`check_contact` (with the ``content``) before sending, then
  :func:`record_attempt` with outcome ``sent`` / ``delivered``;
* the voice robot calls both with ``caller_kind="robot"``;
* field visits are scheduled only through :func:`schedule_field_visit`, which asks the gate.

(The phone desk, SMS sender and voice robot arrive in later issues; they must call these
functions — nothing else writes :class:`~.models.ContactAttempt`.)

:func:`check_contact` builds :class:`~arrears.domain.compliance.Facts` from the database, the
:class:`~arrears.domain.compliance.ContactHistory` from the shared ledger (this customer, last 90
days, every caller: bank teams, agencies and robots) and asks the pure
:func:`~arrears.domain.compliance.decide` with the CN pack. A deny or escalate is written on the
case timeline (``contact_blocked``) with its reasons.

Facts known from the database today: the customer's time zone, the institution role, the case
state, the active placement (assignment), agency whitelisting, the outsourcing notice (an attempt
in the ledger with purpose ``outsourcing_notice``), parties and contact points from the customer's
contacts, holds (the customer's collection holds, :mod:`arrears.contexts.money.facade` —
dispute, complaint, signed payment plan unless breached, litigation, deceased, bankruptcy — and an
*accepted* legal referral → ``Hold("litigation")``), and per contact its restrictions (money's
contact restrictions: do not contact, a third party's refusal, an electronic opt-out). Not yet in
the database (so not passed; their rules do not fire): consents, recording state.

What belongs to other contexts is read through their facades (money, legal, org); the case, the
customer and the contacts the callers pass are read by attribute only (a case row or
:class:`~arrears.contexts.casework.facade.CaseHeader`, contact rows or
:class:`~arrears.contexts.portfolio.facade.ContactPoint`: ``id``, ``party``, ``kind``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from arrears.contexts.casework import facade as casework
from arrears.contexts.legal import facade as legal
from arrears.contexts.money import facade as money
from arrears.contexts.org import facade as org
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.compliance import (
    Assignment,
    ContactHistory,
    ContactPoint,
    ContactRecord,
    Decision,
    Facts,
    Hold,
    MediumBlock,
    Party,
    ProposedAction,
    RulePack,
    decide,
)
from arrears.rules.compliance_packs import load_compliance_pack

from .models import ContactAttempt

__all__ = ["ContactRefused", "HISTORY_DAYS", "BLOCKING", "check_contact", "record_attempt", "schedule_field_visit",
           "build_facts", "build_history", "proposed_action", "contact_record", "party_id", "default_pack"]

HISTORY_DAYS = 90
BLOCKING = ("deny", "escalate")
#: Contact.Party → the gate's party role
ROLE_OF_PARTY = {"debtor": "debtor", "guarantor": "guarantor", "emergency": "emergency_contact",
                 "other": "third_party"}
#: Contact.Kind → the gate's contact-point kind
POINT_KIND = {"mobile": "mobile", "home_phone": "home_landline", "work_phone": "work", "email": "email",
              "home_address": "home_mail", "work_address": "work_mail"}
#: Contact.Kind → the medium an electronic opt-out blocks (§1006.6(e); 退订)
OPT_OUT_MEDIUM = {"mobile": "text", "email": "email"}
#: outcomes that show an outsourcing notice reached the debtor
_NOTICE_OUTCOMES = ("sent", "delivered", "connected", "conversation", "rpc")
#: the CN pack's product name for a credit card
PRODUCT = "credit_card"


class ContactRefused(ArrearsError):
    """The gate did not allow the contact; ``decision`` holds its reasons and ``next_allowed_at``.
    The message names the rules in both languages."""

    code = ErrorCode.CONTACT_REFUSED

    def __init__(self, decision: Decision, message: str = "") -> None:
        self.decision = decision
        reasons = list(decision.reasons)
        details = {"decision": decision.decision,
                   "reasons": [{"rule_id": r.rule_id, "zh": r.zh, "en": r.en} for r in reasons],
                   "next_allowed_at": decision.next_allowed_at}
        super().__init__(message or "; ".join(f"{r.rule_id}: {r.en}" for r in reasons) or decision.decision,
                         details=details)
        if reasons:
            self._message = (ErrorCode.CONTACT_REFUSED.message_zh + "（" + "；".join(f"{r.rule_id}：{r.zh}" for r in reasons) + "）",
                             ErrorCode.CONTACT_REFUSED.message_en + " (" + "; ".join(f"{r.rule_id}: {r.en}" for r in reasons) + ")")


def default_pack() -> RulePack:
    return load_compliance_pack("cn")  # cached per path


# ---- facts and history from the database ----------------------------------------------------
def party_id(party: str, contact_id: int | None) -> str:
    """The gate's party id: ``debtor`` for the debtor, else one party per contact row."""
    if party == "debtor" or contact_id is None:
        return party
    return f"{party}-{contact_id}"


class _Standing(NamedTuple):
    """One row of :func:`_standing`; which fields mean something depends on the tag: ``r``
    restriction (contact_id, kind, since), ``h`` hold (kind, since, until, breached, reference),
    ``l`` accepted legal referral (day = referred on), ``p`` open placement (reference = agency
    code, day = placed on)."""

    tag: str
    pk: int
    contact_id: int | None
    kind: str
    since: datetime | None
    until: datetime | None
    breached: bool | None
    reference: str
    day: date | None


def _standing(customer_id: int, case_id: int | None, contact_ids: list[int]) -> dict[str, list[_Standing]]:
    """What stands against contacting customer ``customer_id`` — restrictions on ``contact_ids``,
    collection holds, and for case ``case_id`` an accepted legal referral and an open agency
    placement — read in one statement (``UNION ALL`` of the owning contexts' standing-row queries):
    the gate runs before every dial, and each round trip to the database counts under load. Rows by
    tag (``r``, ``h``, ``l``, ``p``), each in a stable order (restrictions by time, the rest by id)."""
    parts = [money.contact_restriction_rows(contact_ids), money.collection_hold_rows(customer_id)]
    if case_id is not None:
        parts += [legal.accepted_referral_rows(case_id), org.open_placement_rows(case_id)]
    out: dict[str, list[_Standing]] = {"r": [], "h": [], "l": [], "p": []}
    for row in parts[0].union(*parts[1:], all=True):
        out[row[0]].append(_Standing(*row))
    out["r"].sort(key=lambda r: (r.since, r.pk))
    for t in ("h", "l", "p"):
        out[t].sort(key=lambda r: r.pk)
    return out


def build_facts(customer, case, *, caller_kind: str = "bank", caller: str | None = None,
                contacts: list | None = None) -> Facts:
    """The gate's facts about ``customer`` (``id``, ``timezone``) and ``case`` (``id``,
    ``is_closed``; or ``None``) now: parties and contact points with their restrictions, holds (and
    an accepted legal referral as a litigation hold), the case state, the agency placement and its
    outsourcing notice. ``contacts``: the customer's contacts (``id``, ``party``, ``kind``) when the
    caller has read them, else they are read (:func:`arrears.contexts.portfolio.facade.contact_points`)."""
    if contacts is None:
        from arrears.contexts.portfolio.facade import contact_points

        contacts = contact_points(customer.id)
    standing = _standing(customer.id, case.id if case is not None else None, [c.id for c in contacts])
    restrictions: dict[int, list[_Standing]] = {}
    for r in standing["r"]:
        restrictions.setdefault(r.contact_id, []).append(r)
    parties = {"debtor": Party("debtor", "debtor")}
    points = {}
    medium_blocks: list[MediumBlock] = []
    for c in contacts:
        pid = party_id(c.party, c.id)
        mine = restrictions.get(c.id, [])
        dnc = any(r.kind == "do_not_contact" for r in mine)
        refused = next((r.since for r in mine if r.kind == "refused"), None)
        if pid not in parties or dnc or refused:
            parties[pid] = Party(pid, "debtor" if pid == "debtor" else ROLE_OF_PARTY.get(c.party, "third_party"),
                                 do_not_contact=dnc or parties.get(pid, Party(pid, "x")).do_not_contact,
                                 refused_at=refused)
        points[str(c.id)] = ContactPoint(str(c.id), pid, POINT_KIND.get(c.kind, c.kind))
        for r in mine:
            if r.kind == "opted_out":
                medium_blocks.append(MediumBlock(OPT_OUT_MEDIUM.get(c.kind, "text"), r.since, str(c.id)))
    holds: list[Hold] = [
        Hold(h.kind, since=h.since, until=h.until, breached=h.breached, reference=h.reference or f"hold-{h.pk}")
        for h in standing["h"]
    ]
    case_state = "open"
    assignment = None
    notice_at = None
    if case is not None:
        tz = ZoneInfo(customer.timezone)
        for ref in standing["l"]:
            holds.append(Hold("litigation", since=datetime.combine(ref.day, time(0), tzinfo=tz),
                              reference=f"legal-referral-{ref.pk}"))
        if case.is_closed:
            case_state = "closed"
        placement = standing["p"][0] if standing["p"] else None
        if placement is not None:
            assignment = Assignment(placement.reference, datetime.combine(placement.day, time(0), tzinfo=tz))
        elif caller_kind == "agency" and caller and org.recalled_from(case.id, caller):
            case_state = "recalled"
        if assignment is not None:  # the outsourcing notice matters only to a placed case (CN-OUT-01)
            notice_at = (ContactAttempt.objects.filter(case_id=case.id, purpose="outsourcing_notice", direction="outbound",
                                                       outcome__in=_NOTICE_OUTCOMES)
                         .order_by("at").values_list("at", flat=True).first())
    whitelisted = None
    if caller_kind == "agency":
        whitelisted = org.agency_whitelisted(caller or "")
    return Facts(
        timezones=(customer.timezone,),
        debtor_id=str(customer.id),
        product=PRODUCT,
        institution_role="agency" if caller_kind == "agency" else "bank",
        holds=tuple(holds),
        medium_blocks=tuple(medium_blocks),
        case_state=case_state,
        parties=parties,
        contact_points=points,
        assignment=assignment,
        outsourcing_notice_at=notice_at,
        outsourcing_notice_known=notice_at is not None,
        agency_whitelisted=whitelisted,
    )


def contact_record(a: ContactAttempt) -> ContactRecord:
    return ContactRecord(
        ts=a.at, channel=a.channel, direction=a.direction, party=party_id(a.party, a.contact_id),
        role=ROLE_OF_PARTY.get(a.party, "third_party"),
        contact_point=str(a.contact_id) if a.contact_id else None, outcome=a.outcome or None,
        caller=a.caller or None, caller_kind=a.caller_kind,
        voice_type="ai_voice" if a.caller_kind == "robot" else None,
    )


def build_history(customer, until: datetime) -> ContactHistory:
    """The shared ledger for ``customer`` (``id``, ``timezone``): every caller, the ``HISTORY_DAYS``
    days before ``until``."""
    rows = ContactAttempt.objects.filter(customer_id=customer.id, at__gte=until - timedelta(days=HISTORY_DAYS),
                                         at__lte=until).order_by("at", "id")
    return ContactHistory([contact_record(a) for a in rows], tz=customer.timezone)


def proposed_action(*, at: datetime, channel: str, contact, party: str, purpose: str,
                    content: str | None, caller_kind: str, caller: str | None, direction: str = "outbound"
                    ) -> ProposedAction:
    if contact is not None:
        party = contact.party
    return ProposedAction(
        ts=at, channel=channel, party=party_id(party, contact.id if contact else None),
        role=ROLE_OF_PARTY.get(party, "third_party"), direction=direction,
        contact_point=str(contact.id) if contact else None, purpose=purpose, content=content,
        caller_kind=caller_kind, caller=caller, voice_type="ai_voice" if caller_kind == "robot" else None,
    )


def _reasons(decision: Decision) -> list[dict]:
    return [{"rule_id": r.rule_id, "severity": r.severity, "zh": r.zh, "en": r.en} for r in decision.reasons]


# ---- the service --------------------------------------------------------------------------------
def check_contact(*, case, channel: str, at: datetime | None = None, contact=None,
                  party: str = "debtor", purpose: str = "collect", content: str | None = None, actor=None,
                  caller_kind: str = "bank", caller: str | None = None, pack: RulePack | None = None,
                  contacts: list | None = None) -> Decision:
    """Ask the gate whether this contact may happen (``at`` defaults to now). A deny or escalate is
    logged on the case timeline (``contact_blocked``) with its reasons. ``case``: a case row (its
    ``customer`` read through the relation); ``contact``: the contact point asked about (``id``,
    ``party``, ``kind``). ``pack``: the CN pack unless given (an institution overlay, tests).
    ``contacts``: the customer's contacts when the caller has just read them (else they are read here)."""
    now = timezone.now()
    at = at or now
    customer = case.customer
    pack = pack or default_pack()
    facts = build_facts(customer, case, caller_kind=caller_kind, caller=caller, contacts=contacts)
    history = build_history(customer, max(at, now))
    action = proposed_action(at=at, channel=channel, contact=contact, party=party, purpose=purpose,
                             content=content, caller_kind=caller_kind, caller=caller)
    decision = decide(action, facts, history, pack, now)
    if decision.decision in BLOCKING:
        casework.record_case_event(
            case.id, "contact_blocked", at=now, actor_id=getattr(actor, "pk", None),
            data={"channel": action.channel, "at": at.isoformat(), "decision": decision.decision,
                  "rule_ids": decision.rule_ids, "reasons": _reasons(decision),
                  "next_allowed_at": decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
                  "pack_version": decision.pack_version, "caller_kind": caller_kind, "caller": caller or ""},
        )
    return decision


def record_attempt(*, case, channel: str, outcome: str, decision: Decision | str, contact=None,
                   actor=None, caller_kind: str = "bank", caller: str | None = None, at: datetime | None = None,
                   direction: str = "outbound", purpose: str = "collect", party: str = "debtor") -> ContactAttempt:
    """Append one attempt to the ledger (and a ``contact_attempt`` event on the timeline). An
    outbound attempt whose gate decision was deny/escalate is refused (:class:`ContactRefused`).
    ``case``: ``id`` and ``customer_id``; ``contact``: the contact point (``id``, ``party``) or ``None``."""
    verdict = decision.decision if isinstance(decision, Decision) else str(decision)
    if direction == "outbound" and verdict in BLOCKING:
        if isinstance(decision, Decision):
            raise ContactRefused(decision)
        raise ContactRefused(Decision(verdict, [], None, ""), f"the gate's decision was {verdict}")
    at = at or timezone.now()
    with transaction.atomic(savepoint=False):  # the attempt and its event together, with the caller's work
        attempt = ContactAttempt.objects.create(
            customer_id=case.customer_id, case_id=case.id, at=at, channel=channel, direction=direction,
            party=contact.party if contact is not None else party,
            contact_id=contact.id if contact is not None else None, outcome=outcome,
            purpose=purpose, caller_kind=caller_kind, caller=caller or "", actor=actor, decision=verdict,
            rule_ids=decision.rule_ids if isinstance(decision, Decision) else [],
            pack_version=decision.pack_version if isinstance(decision, Decision) else "",
        )
        casework.record_case_event(
            case.id, "contact_attempt", at=at, actor_id=getattr(actor, "pk", None),
            data={"attempt": attempt.pk, "channel": channel, "direction": direction, "outcome": outcome,
                  "caller_kind": caller_kind, "caller": caller or "", "decision": verdict,
                  "rule_ids": attempt.rule_ids, "pack_version": attempt.pack_version},
        )
    return attempt


#: the time of day a field visit is checked at when none is given (local time)
FIELD_VISIT_TIME = time(10, 0)


def schedule_field_visit(*, case, agent, day: date, actor=None, start: time = FIELD_VISIT_TIME,
                         caller_kind: str = "bank", caller: str | None = None):
    """Plan a field visit on ``day`` — only if the gate allows a visit at ``start`` (local time)."""
    from arrears.contexts.contact.fieldwork.models import FieldVisit

    at = datetime.combine(day, start, tzinfo=ZoneInfo(case.customer.timezone))
    decision = check_contact(case=case, channel="field_visit", at=at, actor=actor, caller_kind=caller_kind,
                             caller=caller)
    if not decision.allowed:
        raise ContactRefused(decision)
    return FieldVisit.objects.create(case=case, agent=agent, scheduled_on=day)

