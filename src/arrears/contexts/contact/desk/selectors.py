"""Reads of the phone desk: the agent's queue (status and preview), the call workspace, the
supervisor board. Personal data leaves masked only; every case read goes through the caller's
data scope (:func:`arrears.contexts.casework.scope.visible_cases`). Other contexts' data comes
through their facades (case header and timeline, customer, promises, restrictions, teams)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_noop

from arrears.contexts.casework import facade as casework
from arrears.contexts.casework.facade import scope_for, visible_cases
from arrears.contexts.casework.facade import (CaseNotFound, amounts_of, case_amounts, case_detail,
                                          in_case_order)
from arrears.contexts.contact.compliance import services as gate
from arrears.contexts.money import facade as money
from arrears.contexts.org import facade as org
from arrears.contexts.portfolio import facade as portfolio
from arrears.core.errors import ArrearsError, log_unexpected
from arrears.domain.calendar import local_date
from arrears.domain.money import format_amounts, format_money, sum_by_currency

from arrears.contexts.strategy.facade import case_stage_label
from arrears.domain.masking import card_last4, mask_name

from . import vocabulary as V
from .callscripts import RenderedScript, ScriptRefused, render
from .history import contact_history
from .models import Call, NumberState, QueueItem
from .services import ORDER, _team_id, phone_decision, promise_rest


def _english() -> bool:
    return (get_language() or "").startswith("en")


# ---------------------------------------------------------------------------------------------
# the queue
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStatus:
    held_case_id: int | None
    open_call_id: int | None
    own_ready: int
    pool_ready: int
    callbacks_due: int
    waiting_later: int


def queue_status(agent, now: datetime) -> QueueStatus:
    """The agent's queue in numbers: the case they hold, cases callable now (their own, their
    team's pool), callbacks due, and cases waiting for a later time."""
    team_id = _team_id(agent)
    held = QueueItem.objects.filter(claimed_by=agent, state="claimed").values_list("case_id", flat=True).first()
    open_call = Call.objects.filter(agent=agent, state="dialing").values_list("pk", flat=True).first()
    own = QueueItem.objects.filter(agent=agent, state="ready")
    agg = own.aggregate(now=Count("pk", filter=Q(available_at__lte=now)),
                        later=Count("pk", filter=Q(available_at__gt=now)),
                        callbacks=Count("pk", filter=Q(available_at__lte=now, klass=V.KLASS_CALLBACK)))
    pool = (QueueItem.objects.filter(agent__isnull=True, team_id=team_id, state="ready", available_at__lte=now)
            .count() if team_id else 0)
    return QueueStatus(held, open_call, agg["now"], pool, agg["callbacks"], agg["later"])


@dataclass(frozen=True)
class QueueRow:
    position: int
    case_id: int | None  # None: a pool case outside the caller's scope (shown without identity)
    number: str
    customer_name: str  # masked
    bucket: str
    dpd: int
    balance: Decimal | None
    currency: str
    priority: int
    klass: int
    klass_label: str
    due_at: datetime | None
    source: str  # "own" or "pool"
    #: every currency's figures (``[]`` outside the caller's scope); ``balance`` / ``currency``
    #: above are the primary currency's
    amounts: list = field(default_factory=list)


KLASS_LABELS = {V.KLASS_CALLBACK: gettext_noop("约定回电"), V.KLASS_PROMISE: gettext_noop("承诺还款跟进"),
                V.KLASS_NORMAL: gettext_noop("待拨打")}


def queue_preview(agent, now: datetime, limit: int = 20) -> list[QueueRow]:
    """The next ``limit`` cases in the order get-next would give them (own first, then the team's
    pool). Cases outside the caller's data scope (pool cases, for a collector) are shown without
    customer or case number."""
    limit = max(1, min(int(limit), 100))
    team_id = _team_id(agent)
    base = QueueItem.objects.filter(state="ready", available_at__lte=now).select_related("case", "case__customer")
    items = [(i, "own") for i in base.filter(agent=agent).order_by(*ORDER)[:limit]]
    if team_id is not None and len(items) < limit:
        items += [(i, "pool") for i in base.filter(agent__isnull=True, team_id=team_id).order_by(*ORDER)
                  [:limit - len(items)]]
    visible = set(visible_cases(agent).filter(pk__in=[i.case_id for i, _ in items]).values_list("pk", flat=True))
    rows = []
    for n, (i, src) in enumerate(items, 1):
        seen = i.case_id in visible
        c = i.case
        rows.append(QueueRow(n, i.case_id if seen else None, f"C{i.case_id}" if seen else "–",
                             mask_name(c.customer.name) if seen else "–", c.bucket, i.dpd,
                             c.total_balance if seen else None, c.currency, i.priority, i.klass,
                             gettext(KLASS_LABELS[i.klass]), i.due_at, src, case_amounts(c) if seen else []))
    return rows


# ---------------------------------------------------------------------------------------------
# the workspace
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberRow:
    contact_id: int
    party: str
    party_label: str
    kind_label: str
    relation: str  # in the page's language
    value: str  # masked
    status: str
    status_label: str
    restriction: str  # "" or a ContactRestriction kind label
    third_party: bool
    callable: bool
    decision: str
    reasons: list[str]
    next_allowed_local: str


@dataclass(frozen=True)
class BalanceText:
    account: str
    paragraph: str
    amount_owed: Decimal | None  # in ``currency`` (the account's)
    #: why there is no paragraph, in the page's language ("" when unknown)
    error: str = ""
    currency: str = "CNY"


@dataclass
class Workspace:
    case: object  # cases.selectors.CaseDetail (masked)
    stage: str
    action: str
    numbers: list[NumberRow]
    balances: list[BalanceText]
    script: RenderedScript | None
    script_error: str
    third_party_script: RenderedScript | None
    #: the case timeline in words (casework's event views, newest first)
    timeline: list
    calls: list[Call]
    open_call: Call | None
    held_by: str
    held_by_me: bool
    timezone: str
    local_now: str
    pack_version: str
    promises: list = field(default_factory=list)
    #: why the third-party script is not shown ("" when it is)
    third_party_error: str = ""
    #: the case's stage in the page's language
    stage_label: str = ""
    #: every call, SMS, visit, other contact attempt and note, newest first
    history: object = None
    #: after a promise taken today: why the day's calling stopped ("" otherwise)
    rest_reason: str = ""


def agent_identity(agent) -> tuple[str, str]:
    """How an agent names themselves on the phone: their name (family name first for a Chinese
    name, ``陈静``; ``Jing Chen`` otherwise; the user name when none is recorded) and their staff
    number (工号): their Arrears account number, six digits (``000017``) — never the login name,
    which may be a word that tells a third party what the call is about."""
    first, last = (agent.first_name or "").strip(), (agent.last_name or "").strip()
    if first or last:
        name = f"{last}{first}" if not (first + last).isascii() else " ".join(p for p in (first, last) if p)
    else:
        name = agent.get_username()
    return name, f"{agent.pk:06d}"


def _values(case: casework.CaseHeader, customer_name: str, detail, agent, language: str,
            balances: list[BalanceText]) -> dict[str, str]:
    """The call script's placeholders for ``case``. Amounts list every currency the debtor owes in,
    side by side, never their sum (``100.00元、50.00 USD`` / ``CNY 100.00, USD 50.00``): the overdue
    amount from the case's figures (:func:`~arrears.contexts.casework.selectors.case_amounts`), the amount
    owed from the balance explanations when every account has one (else the case's balances), the
    minimum payment from the accounts — each totalled per currency."""
    lang = "en" if language.startswith("en") else "zh"
    name = customer_name or ""
    surname = (name[:1] if name and not name.isascii() else (name.split()[-1] if name else "")) or "–"
    accounts = detail.accounts
    first = max(accounts, key=lambda a: a.dpd) if accounts else None
    figures = list(case.amounts)
    if balances and all(b.amount_owed is not None for b in balances):
        owed = in_case_order(figures, sum_by_currency((b.currency, b.amount_owed) for b in balances))
    else:
        owed = amounts_of(figures, "balance")
    minimum = in_case_order(figures, sum_by_currency((a.currency, a.minimum_due) for a in accounts))
    title = (f"{surname}先生/女士" if lang == "zh" else f"Mr/Ms {surname}")
    agent_name, staff_number = agent_identity(agent)
    return {
        "agent_name": agent_name,
        "agent_id": staff_number,
        "customer_surname": surname,
        "customer_title": title,
        "card_last4": card_last4(first.external_id) if first else "",
        "dpd": str(case.max_dpd),
        "overdue_amount": format_amounts(amounts_of(figures, "overdue"), lang),
        "amount_owed": format_amounts(owed, lang),
        "minimum_due": format_amounts(minimum or {case.currency: Decimal("0.00")}, lang),
        "oldest_due_date": first.oldest_unpaid_due_date.isoformat() if first and first.oldest_unpaid_due_date else "",
        "balance_explanation": " ".join(b.paragraph for b in balances if b.paragraph),
    }


def workspace(user, case_id: int, now: datetime, language: str | None = None) -> Workspace:
    """Everything the call workspace shows for a case in ``user``'s scope (raises
    :class:`CaseNotFound` otherwise): the masked case page data, every phone number with its status,
    restriction and the gate's answer for a call now (callable, or why not and from when, in the
    debtor's local time), the balance explanation per account, the call script of the case's
    stage in ``language`` (debtor and third-party versions) with the values filled in, the timeline,
    the calls and the open call."""
    from arrears.contexts.money.facade import explain_account

    language = language or get_language() or "zh-hans"
    detail = case_detail(user, case_id)
    case = casework.case_header(case_id)
    customer = portfolio.customer_facts(case.customer_id)
    tz = customer.timezone
    contacts = detail.contacts  # every contact of the customer, values masked
    phones = [c for c in contacts if c.kind in V.PHONE_KINDS]
    phone_ids = [c.id for c in phones]
    states = dict(NumberState.objects.filter(contact_id__in=phone_ids).values_list("contact_id", "status"))
    restr: dict[int, str] = {}
    for r in money.contact_restrictions(phone_ids):
        restr[r.contact_id] = r.label
    facts = gate.build_facts(customer, case, contacts=contacts)
    history = gate.build_history(customer, now)
    english = _english()
    numbers, pack_version = [], ""
    party_order = {"debtor": 0, "guarantor": 1, "emergency": 2, "other": 3}
    rest = promise_rest(case_id, tz, now)  # after a promise taken today the day's calling stops
    for c in sorted(phones, key=lambda c: (party_order.get(c.party, 9), c.id)):
        status = states.get(c.id, "unverified")
        third = c.party in V.THIRD_PARTIES
        purpose = "locate" if third else "collect"
        relation = c.relation_label or c.relation
        if status in V.UNDIALLABLE:
            numbers.append(NumberRow(c.id, c.party, c.party_label, c.kind_label, relation,
                                     c.value, status, str(V.NUMBER_STATUSES[status]), restr.get(c.id, ""),
                                     third, False, "deny", [str(V.UNDIALLABLE[status])], ""))
            continue
        if rest is not None:  # from the debtor's next day, when the gate allows then
            reason, until = rest
            later = phone_decision(case, c, until, purpose=purpose, now=now, facts=facts, history=history)
            at = until if later.allowed else (later.next_allowed_at or until)
            numbers.append(NumberRow(c.id, c.party, c.party_label, c.kind_label, relation, c.value, status,
                                     str(V.NUMBER_STATUSES[status]), restr.get(c.id, ""), third, False, "deny",
                                     [f"{reason['rule_id']}: {reason['en'] if english else reason['zh']}"],
                                     at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") + f" ({tz})"))
            continue
        d = phone_decision(case, c, now, purpose=purpose, now=now, facts=facts, history=history)
        pack_version = d.pack_version
        nxt = (d.next_allowed_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
               + f" ({tz})") if d.next_allowed_at else ""
        numbers.append(NumberRow(
            c.id, c.party, c.party_label, c.kind_label, relation, c.value, status,
            str(V.NUMBER_STATUSES[status]), restr.get(c.id, ""), third, d.allowed, d.decision,
            [f"{r.rule_id}: {r.en if english else r.zh}" for r in d.reasons], nxt))
    today = local_date(now, tz)
    balances = []
    lang = "en" if language.startswith("en") else "zh"
    for a in detail.accounts:
        try:
            exp = explain_account(a.external_id, max(today, a.as_of_extract))
            balances.append(BalanceText(a.external_id, exp.paragraph(lang), exp.amount_owed, currency=a.currency))
        except ArrearsError as exc:  # a product without terms, a date before the extract …
            balances.append(BalanceText(a.external_id, "", None, exc.message(language), currency=a.currency))
        except Exception as exc:  # a bug: logged with its traceback; the rest of the workspace still shows
            log_unexpected(exc, f"desk workspace balance of account {a.pk}")
            balances.append(BalanceText(a.external_id, "", None, "", currency=a.currency))
    values = _values(case, customer.name, detail, user, language, balances)
    scripts, errors = {}, {}
    for audience in ("debtor", "third_party"):  # each version stands or is refused on its own
        try:
            scripts[audience] = render(case.stage or "default", language, audience, values)
        except ScriptRefused as exc:
            errors[audience] = exc.message(language)
    timeline = casework.case_events(case_id, 60)
    calls = list(Call.objects.filter(case_id=case_id).select_related("agent").order_by("-dialed_at", "-id")[:20])
    open_call = next((c for c in calls if c.state == "dialing" and c.agent_id == user.pk), None)
    item = QueueItem.objects.filter(pk=case_id).select_related("claimed_by").first()
    held_by = item.claimed_by.get_username() if item and item.state == "claimed" and item.claimed_by_id else ""
    promises = money.case_promises(case_id, 5)
    zone = ZoneInfo(tz)
    strategy = casework.case_strategy_fields(case_id) or {}
    return Workspace(detail, case.stage, case.action, numbers, balances, scripts.get("debtor"),
                     errors.get("debtor", ""), scripts.get("third_party"), timeline,
                     calls, open_call, held_by, bool(item and item.claimed_by_id == user.pk), tz,
                     now.astimezone(zone).strftime("%Y-%m-%d %H:%M"), pack_version, promises,
                     third_party_error=errors.get("third_party", ""),
                     stage_label=case_stage_label(case.stage, strategy.get("strategy_version")),
                     history=contact_history(case_id, case.customer_id),
                     rest_reason=(rest[0]["en"] if english else rest[0]["zh"]) if rest is not None else "")


# ---------------------------------------------------------------------------------------------
# the supervisor board
# ---------------------------------------------------------------------------------------------

BOARD_ROLES = frozenset({"team_leader", "supervisor", "administrator"})


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    username: str
    team: str
    calls: int
    cases_worked: int
    rpcs: int
    promises: int
    #: promised amounts per currency (currency → Decimal), never one number across currencies
    promised_amounts: dict[str, Decimal]
    queue_depth: int
    holding: bool


@dataclass(frozen=True)
class Board:
    day: date
    agents: list[AgentRow]
    pool_depth: dict[str, int]
    queue_depth: int
    totals: dict


def board_agents(user):
    """The agents a board user oversees: a team leader their teams' members; supervisors and
    administrators every collector and team leader."""
    User = get_user_model()
    roles = scope_for(user).roles
    agents = User.objects.filter(is_active=True, groups__name__in=["collector", "team_leader"]).distinct()
    if user.is_superuser or roles & {"supervisor", "administrator", "compliance_officer"}:
        return agents
    if "team_leader" in roles:
        return agents.filter(pk__in=org.members_of_teams_led_by(user.pk))
    return agents.none()


def board(user, day: date | None = None) -> Board:
    """Per agent for business date ``day`` (default today): calls completed, cases worked,
    right-party contacts, promises (count, and amount per currency), queue depth (their ready
    cases) and whether they hold a case now; the team pools' depth; totals (amounts per currency:
    ``totals["promised_amounts"]`` is a dict currency → Decimal, never one number)."""
    day = day or timezone.localdate()
    agents = list(board_agents(user).order_by("username"))
    ids = [a.pk for a in agents]
    staff = org.staff_teams(ids)
    teams = {u: t.team_name for u, t in staff.items()}
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    end = start + timedelta(days=1)
    rpc_codes = [c for c, r in V.RESULT_CODES.items() if r.rpc]
    calls = {r["agent_id"]: r for r in Call.objects.filter(agent_id__in=ids, state="completed", ended_at__gte=start,
                                                            ended_at__lt=end)
             .values("agent_id").annotate(calls=Count("pk"), cases=Count("case_id", distinct=True),
                                          rpcs=Count("pk", filter=Q(result_code__in=rpc_codes)))}
    promised: dict[int, int] = {}
    promised_amounts: dict[int, dict[str, Decimal]] = {}
    for r in money.promises_taken(ids, start, end):  # summed within one currency only
        promised[r.agent_id] = promised.get(r.agent_id, 0) + r.count
        promised_amounts.setdefault(r.agent_id, {})[r.currency] = r.amount
    depth = dict(QueueItem.objects.filter(agent_id__in=ids, state="ready").values("agent_id")
                 .annotate(n=Count("pk")).values_list("agent_id", "n"))
    holding = set(QueueItem.objects.filter(claimed_by_id__in=ids, state="claimed").values_list("claimed_by_id",
                                                                                               flat=True))
    rows = [AgentRow(a.pk, a.get_username(), teams.get(a.pk) or "", calls.get(a.pk, {}).get("calls", 0),
                     calls.get(a.pk, {}).get("cases", 0), calls.get(a.pk, {}).get("rpcs", 0),
                     promised.get(a.pk, 0), promised_amounts.get(a.pk, {}), depth.get(a.pk, 0), a.pk in holding)
            for a in agents]
    team_ids = {t.team_id for t in staff.values()} - {None}
    pool = {name or "–": n for name, n in QueueItem.objects.filter(agent__isnull=True, team_id__in=team_ids,
                                                                   state="ready")
            .values("team__name").annotate(n=Count("pk")).values_list("team__name", "n")}
    totals = {"calls": sum(r.calls for r in rows), "cases_worked": sum(r.cases_worked for r in rows),
              "rpcs": sum(r.rpcs for r in rows), "promises": sum(r.promises for r in rows),
              "promised_amounts": dict(sorted(sum_by_currency(
                  (cur, amount) for r in rows for cur, amount in r.promised_amounts.items()).items())),
              "queue_depth": sum(r.queue_depth for r in rows) + sum(pool.values())}
    return Board(day, rows, pool, totals["queue_depth"], totals)
