"""Writes of the phone desk: the work queue, get-next, dialing through the gate, outcomes,
callbacks, number statuses, third-party restrictions and reassignment.

* :func:`sync_queue` mirrors the strategy's decisions into :class:`~.models.QueueItem` (bulk).
* :func:`get_next` gives the calling agent the next case, atomically: their own allocated cases
  first, then their team's pool, in queue order (callbacks due, promise follow-ups, then strategy
  priority, score, DPD). The claim is one statement, ``UPDATE … WHERE case_id = (SELECT … FOR
  UPDATE SKIP LOCKED LIMIT 1) RETURNING`` (PostgreSQL), so no two agents ever get the same case and
  none waits for another; an agent's own requests are serialised on their user row and the database
  allows one claimed case per agent (a double click does not claim two cases). The case the
  gate would not let anyone phone now is deferred to when it may (``desk_deferred``) and the next
  one is tried.
* :func:`dial` asks the compliance gate (:func:`arrears.contexts.contact.compliance.services.check_contact`)
  before every dial and refuses with the gate's reasons and the time it becomes allowed; then
  hands the call to the dialer adapter (:mod:`arrears.adapters.dialer`).
* :func:`post_outcome` completes a call: ledger attempt (:func:`record_attempt`, with the real
  outcome), number status, promise (:func:`arrears.contexts.money.payments.services.take_promise`), callback
  (only at a time the gate allows, in the debtor's local time), collection hold (dispute,
  deceased), third party's "do not contact me again" (a ``refused`` ContactRestriction the gate
  enforces, CN-WHO-04), recording reference and retention (CN-REC-01/02), the queue, and the
  strategy re-evaluation (queued after commit: :func:`arrears.contexts.strategy.tasks.reevaluate_after_commit`).

Every state change goes through one function with a declared map (:mod:`.vocabulary`) and writes
a timeline event; nothing is half-written: inputs are checked first, writes are atomic.

Other contexts' data comes through their facades (the case's queue facts and assignee, the agent's
team, holds and restrictions, promises due), or through the relations of the desk's own rows and
of the case rows the data scope gives (the customer's contacts with their number status, read in
the same statement).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from arrears.contexts.casework import facade as casework
from arrears.contexts.casework.facade import EventRow, record_case_event, record_case_events
from arrears.contexts.casework.facade import scope_for, visible_cases
from arrears.contexts.casework.facade import CaseNotFound
from arrears.contexts.contact.compliance import services as gate
from arrears.contexts.money import facade as money
from arrears.contexts.org import facade as org
from arrears.core import dbio
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain import action_params
from arrears.domain.calendar import local_date
from arrears.domain.cases import ACTIVE_STATUSES
from arrears.domain.compliance import Decision, Reason, decide

from . import vocabulary as V
from .models import Call, NumberState, QueueItem

log = logging.getLogger("arrears.desk")

ACTIVE = [s.value for s in ACTIVE_STATUSES]
#: roles that take cases from the queue and call
AGENT_ROLES = frozenset({"collector", "team_leader", "administrator"})


def _setting(name: str, default):
    return getattr(settings, name, default)


class DeskError(ArrearsError, ValueError):
    """A desk operation was refused; ``code`` names why, ``field`` the offending input."""

    def __init__(self, code: str, message: str, field: str | None = None, **details) -> None:
        super().__init__(message, code=code, field=field, details=details)


def _reasons_message(head: ErrorCode, reasons: list[dict]) -> tuple[str, str] | None:
    """The code's message followed by the gate's reasons, in each language."""
    if not reasons:
        return None
    return (head.message_zh + "（" + "；".join(f"{r['rule_id']}：{r['zh']}" for r in reasons) + "）",
            head.message_en + " (" + "; ".join(f"{r['rule_id']}: {r['en']}" for r in reasons) + ")")


class DialRefused(DeskError):
    """The gate (or the desk's number status) did not allow this dial: ``reasons`` (``rule_id``,
    ``zh``, ``en``) and ``next_allowed_at`` (aware, or ``None``)."""

    def __init__(self, message: str, reasons: list[dict], next_allowed_at: datetime | None, decision: str) -> None:
        super().__init__(ErrorCode.DIAL_REFUSED, message, "contact_id", reasons=reasons,
                         next_allowed_at=next_allowed_at, decision=decision)
        self.reasons = reasons
        self.next_allowed_at = next_allowed_at
        self.decision = decision
        self._message = _reasons_message(ErrorCode.DIAL_REFUSED, reasons) or self._message


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _team_id(user) -> int | None:
    return org.team_of(user.pk)


def score_rank(band: str | None) -> int:
    """The case's score band as a rank, 1 best (``A``→1, ``B``→2 …, ``"3"``→3); 99 without one."""
    band = (band or "").strip().upper()
    if not band:
        return 99
    if band.isdigit():
        return max(1, min(98, int(band)))
    if "A" <= band[0] <= "Z":
        return ord(band[0]) - ord("A") + 1
    return 98


def _tz(case) -> ZoneInfo:
    return ZoneInfo(case.customer.timezone)


def _writable_case(user, case_id: int, *, lock: bool = False):
    """The case if ``user`` may see it and write (else :class:`CaseNotFound` / DeskError)."""
    qs = visible_cases(user).select_related("customer")
    if lock:
        qs = qs.select_for_update(of=("self",))
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(case_id)
    if scope_for(user).read_only:
        raise DeskError("read_only", "this role may look but not work cases")
    return case


def _reasons(decision: Decision) -> list[dict]:
    return [{"rule_id": r.rule_id, "severity": r.severity, "zh": r.zh, "en": r.en} for r in decision.reasons]


def phone_decision(case, contact, at: datetime, *, purpose: str = "collect",
                   now: datetime | None = None, facts=None, history=None) -> Decision:
    """The gate's answer for phoning ``contact`` at ``at`` — read-only (no timeline event), for the
    workspace and callback scheduling. The dial itself calls ``check_contact`` (which logs)."""
    now = now or timezone.now()
    if facts is None or history is None:
        customer = case.customer
        facts = facts if facts is not None else gate.build_facts(customer, case)
        history = history if history is not None else gate.build_history(customer, max(at, now))
    action = gate.proposed_action(at=at, channel="phone", contact=contact, party=contact.party, purpose=purpose,
                                  content=None, caller_kind="bank", caller=None)
    return decide(action, facts, history, gate.default_pack(), now)


#: After a promise to pay the day's calling stops: the rule id the desk gives its refusal.
PROMISE_TODAY = "DESK-PROMISE-TODAY"


def _next_local_day(now: datetime, tz: str) -> datetime:
    """The start of the debtor's next local day (aware, in their zone)."""
    return datetime.combine(local_date(now, tz) + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))


def promise_rest(case_id: int, tz: str, now: datetime) -> tuple[dict, datetime] | None:
    """After a promise the day's calling stops: when an open promise to pay was taken on the case
    today (the debtor's local date ``tz``, any channel), ``(reason, until)`` — the reason the desk
    shows and refuses a dial with (``rule_id`` :data:`PROMISE_TODAY`, ``zh``, ``en``) and the start
    of the debtor's next local day; ``None`` otherwise. The case then comes back for the promise
    follow-up (:func:`sync_queue`, class 1) — or earlier, when the strategy sends it back to the phone."""
    today = local_date(now, tz)
    taken = [p for p in money.case_promises(case_id, 5) if p.status == "open" and p.taken_on == today]
    if not taken:
        return None
    due = min(p.promised_on for p in taken).isoformat()
    reason = {"rule_id": PROMISE_TODAY, "severity": "block",
              "zh": f"客户今天已承诺还款（{due} 前），今天不再致电；之后按承诺跟进。",
              "en": f"The customer promised today to pay by {due}: no more calls today; the promise is followed up."}
    return reason, _next_local_day(now, tz)


def _violates(exc: IntegrityError, constraint: str, sqlite_columns: str) -> bool:
    """Is ``exc`` the violation of unique constraint ``constraint``? PostgreSQL names it; SQLite
    names the constrained column(s) (``table.column``) in its message."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name == constraint
    return constraint in str(exc) or f"UNIQUE constraint failed: {sqlite_columns}" in str(exc)


# ---------------------------------------------------------------------------------------------
# the queue
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def sync_queue(case_ids: list[int] | None = None, now: datetime | None = None) -> dict:
    """Mirror the strategy into the queue: every open, active case whose action is ``call`` gets a
    ready item (team, allocated agent, priority, score rank, DPD refreshed); items of cases that
    left the phone (closed, on hold, another action) are removed unless claimed; a pending callback
    (class 0) stays while the case is open and not on hold. Open promises due today or tomorrow add
    a promise follow-up (class 1). ``case_ids`` limits the sync to those cases. Returns counts."""
    now = now or timezone.now()
    items = QueueItem.objects.all()
    if case_ids is not None:
        items = items.filter(case_id__in=case_ids)
    wanted: dict[int, tuple] = {}
    for cid, team, agent, params, band, dpd in casework.active_case_facts(action="call", case_ids=case_ids):
        wanted[cid] = (team, agent, action_params.parse(params).priority, score_rank(band), dpd)
    # promise follow-ups: open promises due today or tomorrow (business date) on open, active cases
    today = timezone.localdate(now)
    promise_due: dict[int, datetime] = {}
    promised = money.open_promises_due(today, today + timedelta(days=1), case_ids=case_ids)
    for cid, team, agent, params, band, dpd in casework.active_case_facts(case_ids=promised):
        promise_due[cid] = timezone.make_aware(datetime.combine(promised[cid], datetime.min.time()))
        wanted.setdefault(cid, (team, agent, action_params.parse(params).priority, score_rank(band), dpd))
    callbacks = items.filter(klass=V.KLASS_CALLBACK, case__closed_on__isnull=True, case__status__in=ACTIVE)
    keep_callbacks = set(callbacks.values_list("case_id", flat=True))
    have = {r[0]: r[1:] for r in items.values_list("case_id", "team_id", "agent_id", "priority", "score_rank", "dpd",
                                                  "state", "klass")}
    inserts, updates, deletes = [], [], []
    for cid, row in have.items():
        state, klass = row[5], row[6]
        if cid not in wanted and not (klass == V.KLASS_CALLBACK and cid in keep_callbacks):
            if state == "ready":
                deletes.append(cid)
            continue
        if cid in wanted:
            new = wanted[cid]
            new_klass = klass if klass == V.KLASS_CALLBACK else (V.KLASS_PROMISE if cid in promise_due
                                                                 else V.KLASS_NORMAL)
            if tuple(row[:5]) != new or new_klass != klass:
                updates.append((cid, *new, new_klass, promise_due.get(cid)))
    adapt = connection.ops.adapt_datetimefield_value  # SQLite stores UTC text; PostgreSQL takes the value
    for cid, (team, agent, prio, rank, dpd) in wanted.items():
        if cid not in have:
            klass = V.KLASS_PROMISE if cid in promise_due else V.KLASS_NORMAL
            due = promise_due.get(cid)
            inserts.append((cid, team, agent, "ready", klass, adapt(due) if due else None, prio, rank, dpd, adapt(now),
                            None, None, "", ""))
    table = QueueItem._meta.db_table
    for i in range(0, len(deletes), 5000):
        QueueItem.objects.filter(case_id__in=deletes[i:i + 5000], state="ready").delete()
    if inserts:
        dbio.bulk_insert(table, ("case_id", "team_id", "agent_id", "state", "klass", "due_at", "priority",
                                 "score_rank", "dpd", "available_at", "claimed_by_id", "claimed_at", "last_result",
                                 "note"), inserts)
    # set-based (every ready item's DPD moves each day: one statement, not one per item); updates
    # keep callbacks' due time: only a class change to promise/normal rewrites due_at
    figures = ("team_id", "agent_id", "priority", "score_rank", "dpd", "klass")
    callbacks = [u[:7] for u in updates if u[6] == V.KLASS_CALLBACK]
    others = [(*u[:7], adapt(u[7]) if u[7] else None) for u in updates if u[6] != V.KLASS_CALLBACK]
    if callbacks:
        dbio.bulk_update(table, "case_id", figures, callbacks)
    if others:
        dbio.bulk_update(table, "case_id", (*figures, "due_at"), others)
    return {"queued": len(wanted), "inserted": len(inserts), "updated": len(updates), "removed": len(deletes)}


ORDER = ("klass", "due_at", "priority", "score_rank", "-dpd", "case_id")


def _move_item(item: int | QuerySet, frm: str, to: str, *, actor_id: int | None, kind: str, as_of, data: dict,
               holder: int | None = None, before: tuple[EventRow, ...] = (), **fields) -> int | None:
    """The one place a queue item's ``state`` changes: checks the declared map, moves the item only
    if it is still in ``frm`` and writes the timeline event. Returns the moved item's case id
    (``None``: nothing moved).

    ``item`` is a case id, or a queryset of queue items in the order they are to be taken: its
    first item in ``frm`` is picked and moved in the same statement (``UPDATE … WHERE case_id =
    (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``), so concurrent callers each take a
    different item and none waits for another (PostgreSQL; SQLite serialises writers anyway).
    ``holder``: move a case id's item only while this agent holds it. ``before``: timeline events
    written with the move's own, in the same statement (only when the item moved)."""
    V.QUEUE_MACHINE.check(frm, to)
    meta = QueueItem._meta
    sets = {"state": to, **fields}
    assignments = ", ".join(f"{meta.get_field(k).column} = %s" for k in sets)
    values = [meta.get_field(k).get_db_prep_save(v, connection) for k, v in sets.items()]
    if isinstance(item, QuerySet):
        pick = item.filter(state=frm).select_for_update(skip_locked=True, of=("self",)).values("case_id")[:1]
        where, params = pick.query.get_compiler(connection=connection).as_sql()
        where = f"({where})"
    else:
        where, params = "%s", [int(item)]
        if holder is not None:
            where, params = "%s AND claimed_by_id = %s", [int(item), int(holder)]
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {meta.db_table} SET {assignments} WHERE case_id = {where} AND state = %s "
                    "RETURNING case_id", [*values, *params, frm])
        row = cur.fetchone()
    if row is None:
        return None
    record_case_events([*before, EventRow(row[0], kind, as_of, frm, to, actor_id, "", data)])
    return row[0]


@dataclass
class NextCase:
    """What get-next answered: ``case_id`` (``None``: nothing to call now), ``resumed`` (the agent
    already held this case), ``deferred`` (cases skipped because the gate refuses a call now)."""

    case_id: int | None
    resumed: bool = False
    deferred: list[dict] = field(default_factory=list)


def _claim(agent, now: datetime) -> tuple[int | None, bool]:
    """One claim: the agent's own next case, else their team pool's, taken and moved to
    ``claimed`` in one statement each. An agent who already holds a case (a double click, a
    second tab) gets that case again: the database allows one claimed item per agent
    (``desk_q_one_claim``), so a second claim fails and the held case is returned; the agent's
    own requests are serialised on their user row. Returns ``(case_id, resumed)``."""
    day = timezone.localdate(now)
    base = QueueItem.objects.filter(available_at__lte=now).order_by(*ORDER)
    # the team pool of the agent's team (its members read inside the same statement)
    picks = [(base.filter(agent_id=agent.pk), False), (base.filter(agent__isnull=True, team__members__user_id=agent.pk),
                                                        True)]
    try:
        with transaction.atomic():
            # one agent's requests take turns (a double click, two tabs): the second waits for the
            # first to commit and then finds the case it holds — never "nothing to call"
            get_user_model().objects.select_for_update().filter(pk=agent.pk).values_list("pk", flat=True).first()
            for pick, pooled in picks:
                extra = {"agent_id": agent.pk} if pooled else {}
                case_id = _move_item(pick, "ready", "claimed", actor_id=agent.pk, kind="desk_claimed", as_of=day,
                                     data={"pool": pooled}, claimed_by_id=agent.pk, claimed_at=now, **extra)
                if case_id is None:
                    continue
                if pooled:  # a pool case: it is now this agent's (assignment timeline event)
                    prev = casework.case_assignee(case_id)
                    casework.assign_case(case_id, agent.pk, day)
                    record_case_event(case_id, "assigned", {"from": prev, "to": agent.pk, "by": "desk_get_next"},
                                      as_of=day, actor=agent)
                return case_id, False
    except IntegrityError as exc:  # the agent holds a case already (desk_q_one_claim): nothing was written
        if not _violates(exc, "desk_q_one_claim", "desk_queueitem.claimed_by_id"):
            raise
    held = QueueItem.objects.filter(claimed_by_id=agent.pk, state="claimed").values_list("case_id", flat=True).first()
    return (held, True) if held is not None else (None, False)


#: a contact's number status as read with it (``contact.desk_state``)
_STATE = NumberState._meta.get_field("contact").remote_field


def callable_now(case, now: datetime, contacts: list | None = None) -> tuple[bool, datetime | None, list[dict]]:
    """May the debtor (or guarantor) be phoned now on any dialable number? Returns ``(yes,
    earliest next allowed time, reasons)`` from the gate (read-only). ``contacts``: all the
    customer's contacts when the caller has read them (with their number status, get_next does);
    else they are read through the case's customer."""
    every = list(case.customer.contacts.all()) if contacts is None else contacts
    contacts = [c for c in every if c.kind in V.PHONE_KINDS and c.party in V.COLLECTABLE_PARTIES]
    rest = promise_rest(case.pk, case.customer.timezone, now)
    if rest is not None:  # a promise was taken today: nobody phones the debtor again today
        return False, rest[1], [rest[0]]
    if not contacts:
        return False, None, [{"rule_id": "DESK-NO-NUMBER", "zh": "没有本人或担保人的电话号码", "en": "no phone number"}]
    if all(_STATE.is_cached(c) for c in contacts):  # read with the contacts (get_next does)
        states = {c.pk: _status_of(c) for c in contacts}
    else:
        states = dict(NumberState.objects.filter(contact__in=contacts).values_list("contact_id", "status"))
    facts = gate.build_facts(case.customer, case, contacts=every)
    history = gate.build_history(case.customer, now)
    nexts, reasons = [], []
    for c in contacts:
        if states.get(c.pk) in V.UNDIALLABLE:
            continue
        d = phone_decision(case, c, now, now=now, facts=facts, history=history)
        if d.allowed:
            return True, None, []
        reasons.extend(_reasons(d))
        if d.next_allowed_at:
            nexts.append(d.next_allowed_at)
    return False, (min(nexts) if nexts else None), reasons


def get_next(agent, *, now: datetime | None = None, max_deferrals: int = 5) -> NextCase:
    """Give ``agent`` their next case (see the module docstring). An agent who already holds a
    case gets it again (``resumed``) until they post its outcome or release it. A case the gate
    would not let anyone phone now goes back with ``available_at`` = the gate's next allowed time
    (or in an hour) and the next case is tried, at most ``max_deferrals`` times."""
    now = now or timezone.now()
    if not (scope_for(agent).roles & AGENT_ROLES) and not agent.is_superuser:
        raise DeskError("not_an_agent", "only collectors and team leaders take cases from the queue")
    result = NextCase(None)
    for _ in range(max_deferrals + 1):
        case_id, resumed = _claim(agent, now)
        if case_id is None or resumed:
            result.case_id, result.resumed = case_id, resumed
            return result
        case = QueueItem.objects.select_related("case__customer").get(pk=case_id).case
        contacts = list(case.customer.contacts.select_related("desk_state"))
        ok, nxt, reasons = callable_now(case, now, contacts)
        if ok:
            result.case_id = case_id
            return result
        until = nxt or now + timedelta(hours=1)
        with transaction.atomic():
            _move_item(case_id, "claimed", "ready", actor_id=agent.pk, kind="desk_deferred",
                       as_of=timezone.localdate(now),
                       data={"until": until.isoformat(), "rule_ids": sorted({r["rule_id"] for r in reasons})},
                       claimed_by_id=None, claimed_at=None, available_at=until,
                       note=("; ".join(sorted({r["rule_id"] for r in reasons})))[:255])
        result.deferred.append({"case_id": case_id, "until": until, "reasons": reasons})
    return result


def release(agent, case_id: int, *, now: datetime | None = None, reason: str = "") -> None:
    """Give a claimed case back to the queue without an outcome (available again at once)."""
    now = now or timezone.now()
    with transaction.atomic():
        if Call.objects.filter(agent=agent, case_id=case_id, state="dialing").exists():
            raise DeskError("call_open", "post the outcome of the open call first", "case_id")
        moved = _move_item(case_id, "claimed", "ready", actor_id=agent.pk, kind="desk_released",
                           as_of=timezone.localdate(now), data={"reason": reason[:200]}, holder=agent.pk,
                           claimed_by_id=None, claimed_at=None, available_at=now)
        if moved is None:
            raise DeskError("not_claimed", f"case {case_id} is not held by you", "case_id")


# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def set_number_status(contact, target: str, *, case_id: int, actor=None, call: Call | None = None,
                      now: datetime | None = None) -> bool:
    """Move a phone number's status (declared map :data:`.vocabulary.NUMBER_TRANSITIONS`); writes
    a ``desk_number_status`` event. ``contact``: the contact point (its ``id``). Same status:
    nothing happens (returns False)."""
    now = now or timezone.now()
    if target not in V.NUMBER_STATUSES:
        raise DeskError("bad_status", f"unknown number status {target!r}", "status")
    with transaction.atomic(savepoint=False):
        row = NumberState.objects.select_for_update().filter(contact_id=contact.id).values_list("status", flat=True)
        current = row.first() or "unverified"
        if current == target:
            return False
        V.NUMBER_MACHINE.check(current, target)
        NumberState.objects.bulk_create(  # one upsert: a number seen for the first time has no row yet
            [NumberState(contact_id=contact.id, status=target, since=now, call=call)], update_conflicts=True,
            unique_fields=["contact"], update_fields=["status", "since", "call"])
        record_case_event(case_id, "desk_number_status", {"contact": contact.id, "call": getattr(call, "pk", None)},
                          as_of=timezone.localdate(now), actor=actor, from_status=current, to_status=target)
    return True


# ---------------------------------------------------------------------------------------------
# dialing
# ---------------------------------------------------------------------------------------------


@dataclass
class DialOutcome:
    call_id: int
    status: str
    provider_ref: str
    decision: str
    reasons: list[dict]
    #: the recording reference the dialer adapter issued ("" when the dial failed)
    recording_ref: str = ""


def _phone_contact(case, contact_id) -> tuple:
    """The case's phone number ``contact_id`` (its desk status read with it) and all the
    customer's contacts (for the gate's facts), in one read through the case's customer."""
    try:
        contact_id = int(contact_id)
    except (TypeError, ValueError):
        raise DeskError("bad_contact", "contact_id must be a number", "contact_id") from None
    contacts = list(case.customer.contacts.select_related("desk_state"))
    contact = next((c for c in contacts if c.pk == contact_id), None)
    if contact is None:
        raise DeskError("bad_contact", f"contact {contact_id} is not a number of this case", "contact_id")
    if contact.kind not in V.PHONE_KINDS:
        raise DeskError("bad_contact", f"contact {contact_id} is not a phone number", "contact_id")
    return contact, contacts


def _status_of(contact) -> str:
    """The desk status of a contact (read with ``select_related("desk_state")``, else one query)."""
    try:
        return contact.desk_state.status
    except NumberState.DoesNotExist:
        return "unverified"


def dial(agent, case_id: int, contact_id: int, *, purpose: str | None = None, now: datetime | None = None,
         dialer=None) -> DialOutcome:
    """Dial one number of a case through the gate and the dialer adapter.

    Refused (:class:`DeskError`) when the case is held by another agent, the agent already has a
    call without an outcome, the number is not the case's phone number, a third party is called for
    a purpose other than ``locate``/``relay`` (CN-WHO-03) or a debtor/guarantor for anything but
    collection; :class:`DialRefused` when the number is marked invalid/wrong party or the gate
    denies or escalates (the gate logs ``contact_blocked`` on the timeline) — with its reasons and
    the time it becomes allowed. Otherwise writes a :class:`Call` (state ``dialing``) and a
    ``desk_dialed`` event, and after commit asks the dialer to place it (idempotency key
    ``desk-call-<id>``)."""
    from arrears.adapters.dialer import DialRequest, get_dialer

    from .callscripts import script_for

    now = now or timezone.now()
    dialer = dialer or get_dialer()
    case = _writable_case(agent, case_id)
    contact, contacts = _phone_contact(case, contact_id)
    third = contact.party in V.THIRD_PARTIES
    if third:
        if purpose not in V.THIRD_PARTY_PURPOSES:
            raise DeskError("bad_purpose", "a third party may only be called to ask for the debtor's contact "
                            f"details or to relay a message (purpose one of {sorted(V.THIRD_PARTY_PURPOSES)})",
                            "purpose")
    elif purpose not in (None, "", "collect"):
        raise DeskError("bad_purpose", "the debtor and the guarantor are called to collect (purpose 'collect')",
                        "purpose")
    purpose = purpose if third else "collect"
    rest = promise_rest(case.pk, case.customer.timezone, now)
    if rest is not None:  # after a promise the day's calling stops (the debtor and everyone else)
        reason, until = rest
        later = phone_decision(case, contact, until, purpose=purpose, now=now)
        nxt = until if later.allowed else (later.next_allowed_at or until)
        raise DialRefused(reason["en"], [reason], nxt, "deny")
    status = _status_of(contact)
    if status in V.UNDIALLABLE:
        raise DialRefused(str(V.UNDIALLABLE[status]), [{"rule_id": f"DESK-NUMBER-{status.upper()}", "severity": "block",
                                                        "zh": "号码状态：" + str(V.NUMBER_STATUSES[status]),
                                                        "en": f"number status: {status}"}], None, "deny")
    def open_call_refusal() -> DeskError | None:
        open_call = Call.objects.filter(agent=agent, state="dialing").values_list("pk", "case_id").first()
        if open_call is None:
            return None
        return DeskError("call_open", f"post the outcome of call {open_call[0]} (case {open_call[1]}) first",
                         "case_id", call_id=open_call[0])

    holder = QueueItem.objects.filter(pk=case.pk, state="claimed").exclude(claimed_by=agent).values_list(
        "claimed_by__username", flat=True).first()
    if holder:
        raise DeskError("held_by_other", f"case {case.pk} is being worked by {holder}", "case_id")
    if (err := open_call_refusal()) is not None:
        raise err
    refused = None
    try:
        with transaction.atomic():
            # the gate, before every dial (a refusal is logged on the timeline and committed)
            decision = gate.check_contact(case=case, channel="phone", at=now, contact=contact, purpose=purpose,
                                          actor=agent, caller_kind="bank", contacts=contacts)
            if not decision.allowed:
                refused = decision
            else:
                # one call without an outcome per agent: the database refuses a second (desk_call_one_open)
                call = Call.objects.create(
                    case=case, contact=contact, party=contact.party, agent=agent, state="dialing", purpose=purpose,
                    dialed_at=now, decision=decision.decision, rule_ids=decision.rule_ids,
                    reasons=_reasons(decision), pack_version=decision.pack_version, dialer=dialer.name,
                    script_version=script_for(case.stage).key)
                record_case_event(case.pk, "desk_dialed",
                                  {"call": call.pk, "contact": contact.pk, "party": contact.party,
                                   "purpose": purpose, "decision": decision.decision,
                                   "rule_ids": decision.rule_ids, "dialer": dialer.name},
                                  as_of=local_date(now, case.customer.timezone), actor=agent)
    except IntegrityError as exc:  # another request of this agent dialed meanwhile: nothing of this one was written
        if not _violates(exc, "desk_call_one_open", "desk_call.agent_id"):
            raise
        raise open_call_refusal() or DeskError("call_open", "post the outcome of the open call first",
                                               "case_id") from None
    if refused is not None:
        raise DialRefused("; ".join(f"{r.rule_id}: {r.en}" for r in refused.reasons) or refused.decision,
                          _reasons(refused), refused.next_allowed_at, refused.decision)
    # the side effect after commit, with its idempotency key
    req = DialRequest(call_id=f"desk-call-{call.pk}", case_id=case.pk, contact_id=contact.pk, number=contact.value,
                      agent=agent.get_username(), at=now)
    try:
        res = dialer.dial(req)
    except Exception as exc:  # the adapter failed: the call did not happen
        log.warning("dialer %s failed for call %s: %s", dialer.name, call.pk, type(exc).__name__)
        from arrears.adapters.dialer import DialResult

        res = DialResult(call_id=req.call_id, status="failed", error=type(exc).__name__)
    if res.status == "failed":
        with transaction.atomic():
            _move_call(call, "failed", ended_at=now)
            record_case_event(case.pk, "desk_outcome", {"call": call.pk, "dial_failed": res.error},
                              as_of=local_date(now, case.customer.timezone), actor=agent)
    else:
        # the adapter issued the recording reference (CN-REC-01); a switch that names the recording
        # only later files it under its own call id
        recording = (res.recording_ref or res.provider_ref or "")[:128]
        Call.objects.filter(pk=call.pk).update(dialer_ref=res.provider_ref[:128], recording_id=recording)
    return DialOutcome(call.pk, res.status, res.provider_ref, decision.decision, _reasons(decision),
                       res.recording_ref or res.provider_ref or "")


def _move_call(call: Call, to: str, **fields) -> None:
    """The one place a call's ``state`` changes (declared map ``CALL_TRANSITIONS``)."""
    V.CALL_MACHINE.check(call.state, to)
    n = Call.objects.filter(pk=call.pk, state=call.state).update(state=to, **fields)
    if n != 1:
        raise DeskError("stale_call", f"call {call.pk} changed meanwhile", "call_id")
    call.state = to


# ---------------------------------------------------------------------------------------------
# outcomes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeInput:
    """The outcome form. ``callback_at``: aware, or naive = the debtor's local time. Promise:
    ``promise_amount`` (major units of the case's currency, Decimal/str) and ``promise_date`` (the
    debtor's local date). No recording reference: the dialer adapter issued it at the dial (an
    agent never types one); ``recording_seconds`` may come from a switch (the API)."""

    call_id: int
    action_code: str
    result_code: str
    notes: str = ""
    promise_amount: Decimal | str | None = None
    promise_date: object = None
    callback_at: datetime | None = None
    recording_seconds: int | None = None


@dataclass
class OutcomeResult:
    call_id: int
    attempt_id: int
    result_code: str
    promise_id: int | None
    callback_at: datetime | None
    next_available_at: datetime | None
    restriction: str | None
    hold: str | None
    retain_until: object
    retain_until_settled: bool
    #: the recording reference the dialer adapter issued at the dial
    recording_id: str = ""
    #: the strategy trigger of the re-decision queued by this outcome ("" when none)
    reevaluation: str = ""


class CallbackRefused(DeskError):
    """The gate would not allow a call at the asked callback time."""

    def __init__(self, message: str, reasons: list[dict], next_allowed_at: datetime | None) -> None:
        super().__init__(ErrorCode.CALLBACK_NOT_ALLOWED, message, "callback_at", reasons=reasons,
                         next_allowed_at=next_allowed_at)
        self.reasons = reasons
        self.next_allowed_at = next_allowed_at
        self._message = _reasons_message(ErrorCode.CALLBACK_NOT_ALLOWED, reasons) or self._message


def _validate(agent, case, call: Call, inp: OutcomeInput, now: datetime) -> tuple:
    act = V.action_code(inp.action_code)
    res = V.result_code(inp.result_code)
    if call.party not in act.parties:
        raise V.VocabularyError("action_code", f"action {act.code!r} does not fit a call to the {call.party}",
                                [a.code for a in V.ACTION_CODES.values() if call.party in a.parties])
    if act.code not in res.actions:
        raise V.VocabularyError("result_code", f"result {res.code!r} does not follow action {act.code!r}",
                                [r.code for r in V.RESULT_CODES.values() if act.code in r.actions])
    if len(inp.notes or "") > 4000:
        raise DeskError("bad_notes", "notes are limited to 4000 characters", "notes")
    if inp.recording_seconds is not None and not (0 <= int(inp.recording_seconds) <= 6 * 3600):
        raise DeskError("bad_recording", "recording_seconds must be between 0 and 21600", "recording_seconds")
    if (_setting("ARREARS_DESK_REQUIRE_RECORDING", True) and res.ledger_outcome in ("rpc", "conversation")
            and not (call.recording_id or "").strip()):
        # CN-REC-01: the collection process is recorded; the dialer adapter issues the reference
        raise DeskError("recording_required", f"call {call.pk} has no recording reference from the dialer "
                        "(CN-REC-01); a conversation cannot be recorded without one", "call_id")
    tz = _tz(case)
    promise = None
    if "promise" in res.needs:
        from datetime import date as _date

        from arrears.domain.money import money

        try:
            amount = money(inp.promise_amount)
        except Exception:
            raise DeskError("bad_promise", "promise_amount must be an amount in the case's currency, e.g. 1200.00",
                            "promise_amount") from None
        if amount <= 0:
            raise DeskError("bad_promise", "promise_amount must be greater than 0", "promise_amount")
        day = inp.promise_date
        if isinstance(day, str):
            try:
                day = _date.fromisoformat(day)
            except ValueError:
                raise DeskError("bad_promise", "promise_date must be YYYY-MM-DD", "promise_date") from None
        if not isinstance(day, _date):
            raise DeskError("bad_promise", "a promise to pay needs promise_date", "promise_date")
        today = local_date(now, case.customer.timezone)
        horizon = _setting("ARREARS_DESK_PROMISE_MAX_DAYS", 30)
        if day < today or day > today + timedelta(days=horizon):
            raise DeskError("bad_promise", f"promise_date must be from {today} to {today + timedelta(days=horizon)}"
                            " (the debtor's local date)", "promise_date")
        promise = (amount, day)
    callback = None
    if "callback" in res.needs:
        at = inp.callback_at
        if at is None:
            raise DeskError("bad_callback", "a callback needs callback_at", "callback_at")
        if timezone.is_naive(at):
            at = at.replace(tzinfo=tz)
        horizon = _setting("ARREARS_DESK_CALLBACK_MAX_DAYS", 14)
        if at <= now or at > now + timedelta(days=horizon):
            raise DeskError("bad_callback", f"callback_at must be in the next {horizon} days", "callback_at")
        d = phone_decision(case, call.contact, at, now=now) if call.contact else None
        if d is not None and not d.allowed:
            nxt = d.next_allowed_at
            raise CallbackRefused("the gate does not allow a call at that time: "
                                  + "; ".join(f"{r.rule_id}: {r.en}" for r in d.reasons), _reasons(d), nxt)
        callback = at
    return act, res, promise, callback


def post_outcome(agent, case_id: int, inp: OutcomeInput, *, now: datetime | None = None) -> OutcomeResult:
    """Complete call ``inp.call_id`` of case ``case_id`` with its outcome (see the module
    docstring). Every input is checked before anything is written; raises :class:`DeskError`,
    :class:`~.vocabulary.VocabularyError` or :class:`CallbackRefused` (a promise the payments app
    refuses: ``bad_promise``) — and then nothing is written."""
    from arrears.contexts.money.facade import PaymentError, take_promise

    now = now or timezone.now()
    case = _writable_case(agent, case_id)
    try:
        call_pk = int(inp.call_id)
    except (TypeError, ValueError):
        raise DeskError("bad_call", "call_id must be a number", "call_id") from None
    call = Call.objects.select_related("contact").filter(pk=call_pk, case_id=case.pk).first()
    if call is None or call.agent_id != agent.pk:
        raise DeskError("bad_call", f"call {call_pk} is not your call on this case", "call_id")
    if call.state != "dialing":
        raise DeskError("call_closed", f"call {call.pk} already has its outcome", "call_id")
    act, res, promise, callback = _validate(agent, case, call, inp, now)
    day = local_date(now, case.customer.timezone)
    retention_days = settings.ARREARS_RETENTION.get("call_recordings", 730)
    retain_until = local_date(call.dialed_at, case.customer.timezone) + timedelta(days=retention_days)
    restriction = hold = None
    with transaction.atomic():
        decision = Decision(call.decision, [Reason(r["rule_id"], "", r.get("zh", ""), r.get("en", ""),
                                                   r.get("severity", "flag")) for r in call.reasons],
                            None, call.pack_version)
        attempt = gate.record_attempt(case=case, channel="phone", outcome=res.ledger_outcome, decision=decision,
                                      contact=call.contact, actor=agent, caller_kind="bank", at=call.dialed_at,
                                      purpose=call.purpose)
        ptp = None
        if promise is not None:
            try:
                ptp = take_promise(case.pk, promise[0], promise[1], channel="phone", agent=agent, now=now)
            except PaymentError as exc:
                field = {"amount": "promise_amount", "promised_on": "promise_date"}.get(exc.field or "")
                raise DeskError(ErrorCode.BAD_PROMISE, str(exc), field) from exc
        if res.number_status and call.contact is not None:
            set_number_status(call.contact, res.number_status, case_id=case.pk, actor=agent, call=call, now=now)
        if res.restrict and call.contact is not None:
            money.restrict_contact(call.contact_id, res.restrict, now)
            restriction = res.restrict
            record_case_event(case.pk, "desk_restriction",  # + audit contact.restricted
                              {"contact": call.contact_id, "kind": res.restrict, "call": call.pk}, as_of=day, actor=agent)
        if res.hold:
            hold_id = money.open_collection_hold(case.customer_id, res.hold, now, f"desk-call-{call.pk}")
            hold = res.hold
            record_case_event(case.pk, "desk_hold", {"hold": hold_id, "kind": res.hold, "call": call.pk}, as_of=day,
                              actor=agent, audit_data={"kind": res.hold, "call": call.pk})  # + collection.hold_opened
        _move_call(call, "completed", ended_at=now, action_code=act.code, result_code=res.code,
                   notes=inp.notes or "", callback_at=callback, promise=ptp, attempt=attempt,
                   recording_seconds=inp.recording_seconds,
                   retain_until=retain_until, retain_until_settled=ptp is not None)
        outcome_event = EventRow(case.pk, "desk_outcome", day, actor_id=agent.pk, data={
            "call": call.pk, "action_code": act.code, "result_code": res.code, "rpc": res.rpc,
            "party": call.party, "promise": getattr(ptp, "pk", None),
            "callback_at": callback.isoformat() if callback else None,
            "recording_id": call.recording_id or "", "recording_seconds": inp.recording_seconds,
            "notes": (inp.notes or "")[:500]})
        # the queue: back to ready (a callback comes first at its time; anything else is normal work);
        # after a promise the day's calling stops: not before the debtor's next day
        next_at = callback or now + res.retry
        if ptp is not None:
            next_at = max(next_at, _next_local_day(now, case.customer.timezone))
        fields = dict(available_at=next_at, last_result=res.code)
        if callback:
            fields.update(klass=V.KLASS_CALLBACK, due_at=callback, agent_id=agent.pk)
        else:
            fields.update(klass=V.KLASS_NORMAL, due_at=None)
        released = _move_item(case.pk, "claimed", "ready", actor_id=agent.pk, kind="desk_released", as_of=day,
                              data={"result_code": res.code, "next": next_at.isoformat()}, holder=agent.pk,
                              before=(outcome_event,), claimed_by_id=None, claimed_at=None, **fields)
        if released is None:  # the item was not held by this agent (released meanwhile, or none)
            record_case_events([outcome_event])
            item = QueueItem.objects.filter(pk=case.pk).first()
            if item is not None and item.state == "ready":
                QueueItem.objects.filter(pk=case.pk, state="ready").update(**fields)
            elif item is None and callback:
                QueueItem.objects.create(case=case, team_id=case.team_id, agent=agent, state="ready",
                                         klass=V.KLASS_CALLBACK, due_at=callback, priority=1, dpd=case.max_dpd,
                                         available_at=callback, last_result=res.code)
        if res.reevaluate:  # the strategy decides again in the worker, after commit (then the queue follows)
            from arrears.contexts.strategy.facade import reevaluate_after_commit

            reevaluate_after_commit(case.pk, res.reevaluate, day)
    out = OutcomeResult(call.pk, attempt.pk, res.code, getattr(ptp, "pk", None), callback, next_at, restriction,
                        hold, retain_until, ptp is not None, call.recording_id or "", res.reevaluate or "")
    return out


# ---------------------------------------------------------------------------------------------
# supervision
# ---------------------------------------------------------------------------------------------


def reassign(actor, case_id: int, to_agent_id: int, *, reason: str = "", now: datetime | None = None) -> None:
    """Give a case to another agent (team leader within their teams; administrator anywhere):
    the case's agent and team, its queue item, an ``assigned`` timeline event and an audit event.
    Refused while another agent is working the case (claimed) or for a target who is not an
    active collector/team leader (of the actor's team, for a team leader)."""
    from arrears.contexts.org.facade import user_roles

    now = now or timezone.now()
    case = _writable_case(actor, case_id)
    roles = scope_for(actor).roles
    if not (actor.is_superuser or roles & {"team_leader", "administrator"}):
        raise DeskError("not_allowed", "only team leaders and administrators reassign cases")
    User = get_user_model()
    target = User.objects.filter(pk=to_agent_id, is_active=True).first()
    if target is None or not ({r.code for r in user_roles(target)} & {"collector", "team_leader"}):
        raise DeskError("bad_agent", f"user {to_agent_id} is not an active collector", "agent_id")
    team_id = org.team_of(target.pk)
    if not (actor.is_superuser or "administrator" in roles):
        if team_id is None or not org.leads_team(actor.pk, team_id):
            raise DeskError("bad_agent", "team leaders reassign within the teams they lead", "agent_id")
    with transaction.atomic():
        locked = casework.case_assignee(case.pk, lock=True)
        holder = QueueItem.objects.filter(pk=case.pk, state="claimed").exclude(claimed_by=target).values_list(
            "claimed_by__username", flat=True).first()
        if holder:
            raise DeskError("held_by_other", f"{holder} is working this case now; reassign after the call",
                            "case_id")
        if locked == target.pk:
            return
        day = timezone.localdate(now)
        casework.assign_case(case.pk, target.pk, day, team_id=team_id or case.team_id)
        QueueItem.objects.filter(pk=case.pk).update(agent_id=target.pk, team_id=team_id or case.team_id)
        record_case_event(case.pk, "assigned", {"from": locked, "to": target.pk, "by": "desk_reassign"}, as_of=day,
                          actor=actor, reason=(reason or "")[:255],  # + audit desk.reassign
                          audit_reason=reason or "", audit_data={"from": locked, "to": target.pk})
