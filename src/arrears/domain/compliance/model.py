"""What the compliance gate sees: the proposed action, the facts, the contact history, and what it
answers (a :class:`Decision` with its :class:`Reason` list).

Everything is a plain frozen dataclass; times are timezone-aware ``datetime`` (naive ones are
refused), dates are local calendar dates. Vocabulary (channels, outcomes, roles, purposes) is
open-ended strings; the helpers below classify them, so a new outcome code only needs adding here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any, Literal

from ..errors import DomainError

__all__ = [
    "DECISIONS", "SEVERITIES", "LAYERS",
    "CALL_CHANNELS", "ELECTRONIC_CHANNELS", "MAIL_CHANNELS", "IN_PERSON_CHANNELS",
    "channel_medium", "normalize_channel", "normalize_purpose", "COLLECTION_PURPOSES",
    "outcome_reached", "outcome_connected_to_number", "outcome_conversation", "outcome_rang_through",
    "outcome_failed", "outcome_number_invalid", "outcome_refused", "REACHED_OUTCOMES", "CONVERSATION_OUTCOMES",
    "RANG_OUTCOMES", "NOT_CONNECTED_OUTCOMES", "REFUSED_OUTCOMES", "combine",
    "Party", "ContactPoint", "Consent", "Hold", "Debt", "InconvenientTime", "InconvenientPlace",
    "MediumBlock", "Attorney", "Assignment", "Facts", "ProposedAction", "ContactRecord",
    "Reason", "Decision",
]

DecisionValue = Literal["allow", "deny", "allow_flagged", "escalate"]
DECISIONS: tuple[str, ...] = ("allow", "deny", "allow_flagged", "escalate")
#: ``block`` → deny, ``soft_block`` → escalate (a person decides), ``flag`` → allowed but flagged.
SEVERITIES: tuple[str, ...] = ("block", "soft_block", "flag")
#: Highest authority first. Overlays are ``policy``.
LAYERS: tuple[str, ...] = ("law", "regulation", "standard", "self_regulation", "policy")

# ---- channels --------------------------------------------------------------------------------
#: Voice calls (each one is a "telephone call" for frequency rules; robots included).
CALL_CHANNELS = frozenset({"phone", "voice_robot", "voicemail", "ringless_voicemail", "personal_phone"})
ELECTRONIC_CHANNELS = frozenset({
    "sms", "email", "enterprise_wechat_message", "wechat", "personal_wechat", "app_push", "social_media", "im",
})
MAIL_CHANNELS = frozenset({"letter", "postcard"})
IN_PERSON_CHANNELS = frozenset({"field_visit"})

_CHANNEL_ALIASES = {
    "mail": "letter", "post": "letter", "call": "phone", "telephone": "phone", "robot": "voice_robot",
    "ai_voice": "voice_robot", "text": "sms", "text_message": "sms", "visit": "field_visit",
    "wechat_work": "enterprise_wechat_message", "enterprise_wechat": "enterprise_wechat_message",
}


def normalize_channel(channel: str) -> str:
    """Canonical channel name (``"mail"`` → ``"letter"``, ``"text"`` → ``"sms"`` …)."""
    c = (channel or "").strip().lower()
    return _CHANNEL_ALIASES.get(c, c)


def channel_medium(channel: str) -> str:
    """The *medium* a consumer can block (Reg F §1006.14(h)): ``phone`` for every call channel,
    ``text`` for SMS, ``email``, ``mail`` for letters, else the channel itself."""
    if channel in CALL_CHANNELS:
        return "phone"
    if channel == "sms":
        return "text"
    if channel in MAIL_CHANNELS:
        return "mail"
    return channel


# ---- purposes --------------------------------------------------------------------------------
COLLECTION_PURPOSES = frozenset({"collect"})
_PURPOSE_ALIASES = {
    "collect": "collect", "collection": "collect", "demand_repayment": "collect", "payment_reminder": "collect",
    "negotiate": "collect", "negotiate_plan": "collect", "settlement": "collect",
    "locate": "locate", "ask_debtor_contact": "locate", "location_information": "locate", "skip_trace": "locate",
    "relay": "relay", "ask_to_relay_message": "relay",
    "verify": "verify", "verify_identity": "verify",
    "provide_repayment_info": "provide_repayment_info",
    "advise_efforts_terminated": "advise_efforts_terminated",
    "notify_remedy": "notify_remedy", "invoke_remedy": "invoke_remedy",
    "opt_out_confirmation": "opt_out_confirmation",
    "dispute_verification": "dispute_verification", "complaint_handling": "complaint_handling",
    "plan_administration": "plan_administration", "legal_notice": "legal_notice",
    "required_by_law": "required_by_law", "validation_notice": "validation_notice", "service": "service",
    "litigation": "litigation", "legal_action": "litigation", "litigation_referral": "litigation",
}


def normalize_purpose(purpose: str | None) -> str:
    """Canonical purpose; anything unrecognised (free text included) is ``"collect"`` — the
    conservative reading: a contact whose purpose is unknown is treated as a collection demand."""
    if purpose is None:
        return "collect"
    return _PURPOSE_ALIASES.get(purpose.strip().lower(), "collect")


# ---- outcomes --------------------------------------------------------------------------------
_REACHED = frozenset({"connected", "answered", "conversation", "rpc", "conversation_dropped", "met", "replied"})
_CONVERSATION = frozenset({"conversation", "rpc", "conversation_dropped", "connected", "answered"})
_RANG = frozenset({
    "unanswered", "unanswered_ring", "no_answer", "rejected", "declined", "voicemail",
    "voicemail_no_message_left", "voicemail_limited_content_message", "voicemail_left",
})
_NOT_CONNECTED = frozenset({"busy_signal", "busy", "not_in_service", "invalid_number", "empty_number",
                            "failed", "wrong_number", "powered_off", "unreachable"})
_INVALID = frozenset({"not_in_service", "invalid_number", "empty_number"})
_REFUSED = frozenset({"refused", "refused_contact", "do_not_contact_requested"})
#: Public names of the outcome classes (the vectorised check builds its SQL from them).
REACHED_OUTCOMES, CONVERSATION_OUTCOMES, RANG_OUTCOMES = _REACHED, _CONVERSATION, _RANG
NOT_CONNECTED_OUTCOMES, REFUSED_OUTCOMES = _NOT_CONNECTED, _REFUSED


def outcome_reached(outcome: str | None) -> bool:
    """A person picked up / was met (CN: 联系上本人 when the target is the debtor)."""
    return outcome in _REACHED


def outcome_conversation(outcome: str | None) -> bool:
    """A telephone conversation took place (Reg F §1006.14(b)(2)(i)(B))."""
    return outcome in _CONVERSATION


def outcome_connected_to_number(outcome: str | None) -> bool:
    """The call connected to the dialed number (answered, rang, or reached voicemail). Busy
    signal, not-in-service and wrong-number calls do not (comment 14(b)(3)(ii)-1). An unknown
    outcome (``None``: not dialed yet, or not recorded) counts — the conservative reading."""
    return outcome not in _NOT_CONNECTED


def outcome_rang_through(outcome: str | None) -> bool:
    """拨通, conservative reading: the call rang through or was answered (unknown counts)."""
    return outcome_connected_to_number(outcome)


def outcome_failed(outcome: str | None) -> bool:
    """An attempt that did not reach the person (CN: 无法联系上)."""
    return outcome is not None and outcome not in _REACHED and outcome not in _REFUSED


def outcome_number_invalid(outcome: str | None) -> bool:
    """The number is invalid / empty (空号) or not in service."""
    return outcome in _INVALID


def outcome_refused(outcome: str | None) -> bool:
    """The person asked not to be contacted again."""
    return outcome in _REFUSED


# ---- helpers ---------------------------------------------------------------------------------
def _aware(value: datetime | None, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(f"{what} is a naive datetime; pass a timezone-aware time")


def _tuple(value: Iterable[Any] | None) -> tuple:
    return tuple(value) if value is not None else ()


_EMPTY: Mapping[str, Any] = MappingProxyType({})


# ---- facts -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Party:
    """A person the collector may contact. ``role``: debtor, guarantor, joint_obligor,
    spouse_debt_related, spouse, parent_of_minor, guardian, executor, successor_in_interest,
    consumer_attorney, creditor, creditor_attorney, collector_attorney, credit_reporting_agency,
    emergency_contact, reserved_contact, relative, sibling, friend, employer, location_source,
    third_party … ``evidence``: the document behind the role (guarantee contract, court finding).
    ``do_not_contact``/``refused_at``: the party asked not to be contacted (CN-WHO-04) or is
    flagged do-not-contact. ``volunteered_to_repay``: a third party expressly offered to repay.
    ``communication_requested``: the third party asked to be contacted again (§1006.10(c))."""

    party_id: str
    role: str
    evidence: str | None = None
    do_not_contact: bool = False
    refused_at: datetime | None = None
    volunteered_to_repay: bool = False
    communication_requested: bool = False

    def __post_init__(self) -> None:
        _aware(self.refused_at, f"Party {self.party_id!r}: refused_at")


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """A phone number, e-mail address, postal address … of a party. Optional facts are ``None``
    when unknown (then the rules that need them do not fire).

    ``kind``: mobile, home_landline, work, email, home_mail, work_mail, social …;
    ``provenance``: where it came from (CN-PIPL-03: contract, debtor_reserved, debtor_authorized,
    public_lawful, reserved_contact_provided, credit_bureau; anything else is refused);
    ``invalid``: known invalid / 空号; e-mail facts for §1006.6(d)(4) and §1006.22(f)(3); text
    facts for §1006.6(d)(5)."""

    point_id: str
    party_id: str | None = None
    kind: str | None = None
    provenance: str | None = None
    invalid: bool = False
    address: str | None = None
    employer_provided: bool | None = None
    email_basis: str | None = None
    creditor_notice_sent: date | None = None
    creditor_opt_out_deadline: date | None = None
    last_consumer_text: date | None = None
    last_reassigned_db_check: date | None = None
    text_eligibility_basis: str | None = None
    text_eligibility_checked: date | None = None
    verified_consumer: bool | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent or agreement about contact.

    ``kind``: ``agreed_contact`` (the debtor agreed to a contact time / callback: CN "另有约定",
    Reg F §1006.6(b)(4)), ``additional_calls`` (Reg F §1006.14(b)(3)(i): calls within ≤ 7 days are
    excluded from the call count), ``third_party_contact`` (consent to contact third parties).
    ``given_by``: debtor (default) …; ``given_to``: collector (the caller's own organisation),
    creditor, prior_collector. Window: an absolute ``[window_start, window_end]`` and/or a daily
    ``[daily_from, daily_until]`` local time range; ``window_days``: for ``additional_calls``, the
    number of local days counting the consent day as day 1. ``expires_at``/``revoked_at`` end it
    early. ``channels``: empty = any channel. ``evidence``: recording id etc. (logged)."""

    kind: str
    given_at: datetime | None = None
    given_by: str = "debtor"
    given_to: str = "collector"
    window_start: datetime | None = None
    window_end: datetime | None = None
    daily_from: time | None = None
    daily_until: time | None = None
    window_days: int | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    channels: tuple[str, ...] = ()
    evidence: str | None = None
    debts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("given_at", "window_start", "window_end", "expires_at", "revoked_at"):
            _aware(getattr(self, name), f"Consent: {name}")
        object.__setattr__(self, "channels", _tuple(self.channels))
        object.__setattr__(self, "debts", _tuple(self.debts))


@dataclass(frozen=True, slots=True)
class Hold:
    """A reason to stop collecting: ``kind`` ∈ dispute, complaint, payment_plan (signed; lifted
    when ``breached``), litigation, deceased, bankruptcy (and any the pack names). Active from
    ``since`` until ``until`` (``None`` = open-ended)."""

    kind: str
    since: datetime | None = None
    until: datetime | None = None
    breached: bool = False
    reference: str | None = None

    def __post_init__(self) -> None:
        _aware(self.since, f"Hold {self.kind!r}: since")
        _aware(self.until, f"Hold {self.kind!r}: until")

    def active_at(self, at: datetime) -> bool:
        if self.breached:
            return False
        if self.since is not None and at < self.since:
            return False
        return self.until is None or at < self.until


@dataclass(frozen=True, slots=True)
class Debt:
    """One debt in collection (Reg F counts calls per particular debt). ``time_barred``: the
    statute of limitations has expired (§1006.26)."""

    debt_id: str
    type: str | None = None
    time_barred: bool = False


@dataclass(frozen=True, slots=True)
class InconvenientTime:
    """A consumer-designated inconvenient time (§1006.6(b)(1), comment 6(b)(1)-1): on ``weekdays``
    (0 = Monday … 6 = Sunday), either ``all_day`` or local ``[start, end)``; until ``until``
    (inclusive local date) if set."""

    weekdays: frozenset[int]
    start: time | None = None
    end: time | None = None
    all_day: bool = False
    until: date | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class InconvenientPlace:
    """A consumer-designated inconvenient place (e.g. ``home``) and the contact points tied to it
    (the home landline, the home mailing address)."""

    place: str
    contact_points: frozenset[str]
    source: str | None = None


@dataclass(frozen=True, slots=True)
class MediumBlock:
    """The consumer asked that a medium (``phone``, ``text``, ``email``, ``mail`` …) — or one
    address/number of it (``address``) — not be used (§1006.14(h)); from ``since``."""

    medium: str
    since: datetime
    address: str | None = None

    def __post_init__(self) -> None:
        _aware(self.since, "MediumBlock: since")


@dataclass(frozen=True, slots=True)
class Attorney:
    """The consumer is represented by an attorney for the debt (§1006.6(b)(2))."""

    known: bool = True
    name_address_known: bool = True
    responds_in_time: bool = True
    consented_to_direct_contact: bool = False


@dataclass(frozen=True, slots=True)
class Assignment:
    """The case is placed with an external agency (委外) since ``since``."""

    agency: str
    since: datetime

    def __post_init__(self) -> None:
        _aware(self.since, "Assignment: since")


@dataclass(frozen=True)
class Facts:
    """What the gate knows about the debtor, the case and the institution.

    ``timezones``: IANA zones where the debtor may be, the primary (home) zone first; every one
    must pass the time rules. ``institution_role``: bank (creditor collecting its own debt) or
    agency / debt_buyer / debt_collector. ``parties``/``contact_points``: by id. Optional facts
    are ``None`` when unknown; a rule that needs an unknown fact does not fire (the calling
    service always passes what the ledger knows)."""

    timezones: tuple[str, ...]
    debtor_id: str = "debtor"
    product: str | None = None
    institution_role: str | None = None
    gbt_applies: bool | None = None
    consents: tuple[Consent, ...] = ()
    holds: tuple[Hold, ...] = ()
    case_state: str = "open"
    parties: Mapping[str, Party] = field(default_factory=lambda: _EMPTY)
    contact_points: Mapping[str, ContactPoint] = field(default_factory=lambda: _EMPTY)
    debts: tuple[Debt, ...] = ()
    cease_notice_received_at: datetime | None = None
    medium_blocks: tuple[MediumBlock, ...] = ()
    inconvenient_times: tuple[InconvenientTime, ...] = ()
    inconvenient_places: tuple[InconvenientPlace, ...] = ()
    attorney: Attorney | None = None
    workplace_contact_prohibited: bool | None = None
    statements: tuple[tuple[datetime, str], ...] = ()
    assignment: Assignment | None = None
    outsourcing_notice_at: datetime | None = None
    outsourcing_notice_known: bool = False
    agency_whitelisted: bool | None = None
    private_channel_approved: bool = False
    recording_on: bool | None = None
    initial_communication_at: datetime | None = None
    validation_info_given_orally: bool = False
    validation_notice_sent_on: date | None = None
    consumer_paid: bool = False
    third_party_contact_court_permission: bool = False

    def __post_init__(self) -> None:
        tzs = tuple(self.timezones)
        if not tzs:
            raise DomainError("Facts.timezones must name at least one IANA time zone (the debtor's)")
        object.__setattr__(self, "timezones", tzs)
        for name in ("consents", "holds", "debts", "medium_blocks", "inconvenient_times",
                     "inconvenient_places", "statements"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        object.__setattr__(self, "parties", MappingProxyType(dict(self.parties)))
        object.__setattr__(self, "contact_points", MappingProxyType(dict(self.contact_points)))
        for name in ("cease_notice_received_at", "outsourcing_notice_at", "initial_communication_at"):
            _aware(getattr(self, name), f"Facts.{name}")

    @property
    def debt_ids(self) -> tuple[str, ...]:
        return tuple(d.debt_id for d in self.debts)


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """The contact (or message, visit, script) about to happen.

    ``ts``: when (aware); ``None`` for a script / template review with no scheduled time (then
    only content, media and conduct rules apply). ``party``: the target's party id (its role comes
    from ``Facts.parties``; ``role`` here is the fallback). ``contact_point``: the number / address
    used. ``caller_kind``: bank, agency or robot; ``caller``: the team or agency id.
    ``content``: the text (SMS body, letter, script, voicemail; ``None`` = not supplied, so content
    rules are not evaluated; ``""`` = known to be empty). ``acts``: declared acts (e.g.
    ``post_document_in_public_place``). ``rebuttal_factors``: documented reasons that may rebut a
    presumed violation (Reg F comment 14(b)(2)(ii)-2). ``content_type``: e.g.
    ``opt_out_confirmation``. ``format``: e.g. ``postcard``."""

    ts: datetime | None
    channel: str
    party: str = "debtor"
    role: str | None = None
    direction: str = "outbound"
    contact_point: str | None = None
    purpose: str | None = None
    content: str | None = None
    caller_kind: str = "bank"
    caller: str | None = None
    voice_type: str | None = None
    debts: tuple[str, ...] = ()
    acts: tuple[str, ...] = ()
    rebuttal_factors: tuple[str, ...] = ()
    content_type: str | None = None
    format: str | None = None
    conveys_debt_info: bool | None = None
    in_reply_to: str | None = None

    def __post_init__(self) -> None:
        _aware(self.ts, "ProposedAction.ts")
        object.__setattr__(self, "channel", normalize_channel(self.channel))
        object.__setattr__(self, "debts", _tuple(self.debts))
        object.__setattr__(self, "acts", _tuple(self.acts))
        object.__setattr__(self, "rebuttal_factors", _tuple(self.rebuttal_factors))


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One past contact or attempt from the shared ledger (bank teams, agencies, robots).

    ``party``/``role``: who was targeted; ``contact_point``: the number/address; ``outcome``:
    connected, conversation, rpc, unanswered, unanswered_ring, voicemail_*, busy_signal,
    not_in_service, sent, delivered, refused …; ``caller``/``caller_kind``: who contacted
    (bank team, agency id; robots are ``caller_kind="robot"`` or ``voice_type="ai_voice"``).
    ``debts``: the debts the call is counted toward; ``discussed_debts``: for a conversation, the
    debts discussed (each gets the conversation). ``excluded_reason``: the ledger's own exclusion
    (e.g. ``prior_consent``). ``solicited``: a response to the consumer (not unsolicited)."""

    ts: datetime
    channel: str
    direction: str = "outbound"
    party: str = "debtor"
    role: str = "debtor"
    contact_point: str | None = None
    outcome: str | None = None
    caller: str | None = None
    caller_kind: str = "bank"
    voice_type: str | None = None
    debts: tuple[str, ...] = ()
    discussed_debts: tuple[str, ...] | None = None
    excluded_reason: str | None = None
    solicited: bool = False
    content_type: str | None = None

    def __post_init__(self) -> None:
        if self.ts is None:
            raise DomainError("ContactRecord.ts is required")
        _aware(self.ts, "ContactRecord.ts")
        object.__setattr__(self, "channel", normalize_channel(self.channel))
        object.__setattr__(self, "debts", _tuple(self.debts))
        if self.discussed_debts is not None:
            object.__setattr__(self, "discussed_debts", _tuple(self.discussed_debts))

    def conversation_debts(self) -> tuple[str, ...]:
        """Debts a conversation counts toward: those discussed, else those it was about."""
        return self.discussed_debts if self.discussed_debts else self.debts


# ---- the answer ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reason:
    """Why: the rule that fired, its citation (original-language text and source), a plain
    explanation in Chinese and English, the severity it fired with, and evidence ids to log."""

    rule_id: str
    citation: str
    zh: str
    en: str
    severity: str = "block"
    layer: str | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """``decision``: allow | deny | allow_flagged | escalate (the artefact computations of
    :mod:`.artifacts` answer ``compute`` when they only compute dates or values). ``reasons``:
    every rule that fired.
    ``next_allowed_at``: when waiting would help (quiet hours end, a daily cap resets, a window
    rolls), else ``None``. ``pack_version``: the rule pack (and overlay) that decided.
    ``notes``: exceptions applied (e.g. the consent that lifted quiet hours, with its evidence id)
    and checks that could not run. ``details``: computed values (counts, local times, dates)."""

    decision: str
    reasons: list[Reason]
    next_allowed_at: datetime | None
    pack_version: str
    notes: list[Reason] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rule_ids(self) -> list[str]:
        """Rule ids of :attr:`reasons`, first occurrence order, without repeats."""
        seen: dict[str, None] = {}
        for r in self.reasons:
            seen.setdefault(r.rule_id, None)
        return list(seen)

    @property
    def allowed(self) -> bool:
        return self.decision in ("allow", "allow_flagged")

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "rule_ids": self.rule_ids,
            "reasons": [
                {"rule_id": r.rule_id, "severity": r.severity, "zh": r.zh, "en": r.en, "citation": r.citation,
                 "evidence": list(r.evidence)}
                for r in self.reasons
            ],
            "notes": [{"rule_id": r.rule_id, "zh": r.zh, "en": r.en, "evidence": list(r.evidence)} for r in self.notes],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "pack_version": self.pack_version,
        }


def combine(severities: Iterable[str]) -> str:
    """Any block → deny; else any soft block → escalate; else any flag → allow_flagged; else allow."""
    s = set(severities)
    if "block" in s:
        return "deny"
    if "soft_block" in s:
        return "escalate"
    if "flag" in s:
        return "allow_flagged"
    return "allow"
