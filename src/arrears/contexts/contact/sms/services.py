"""SMS channel services (writes): templates, the outbox, dispatch, receipts and replies.

Life of a message
-----------------
1. **Queued** — :func:`enqueue_from_decisions` (the daily run: every open case whose strategy decision
   of that business date is ``sms``; set-based) or :func:`queue_for_case` (an agent). The row's
   idempotency key is *(case, template, debtor-local day)* and the database refuses a second row
   with it (``sms_once_per_case_template_day``): re-running the daily run, retrying, or 288 scheduler
   runs a day create one row (R04). A template is also not queued again for a case within its
   ``min_interval_days`` (R04: "repeat at most every 7 days").
2. **Dispatch** — :func:`dispatch_due` (the worker task ``dispatch_outbox``) claims due rows and, per
   row: the debtor-local send window (policy 08:00–21:00; outside it the row waits for the next
   window start *in the debtor's zone*, R14), the per-debtor daily cap, a usable number (not opted
   out, not flagged), rendering in the debtor's language with fall-back to the default language *in
   full* (R19), content screening of the rendered text, and the compliance gate
   (:func:`~arrears.contexts.contact.compliance.services.check_contact` with the content). Then it is submitted
   (rate-limited) and recorded in the contact ledger (:func:`record_attempt`).
3. **Receipts** — :func:`process_gateway_events`: delivery receipts move it to delivered / failed /
   expired; a permanently undeliverable number is flagged for the desk. Replies: TD / 退订 / STOP
   (any case, full-width too) opt the number out of SMS; anything else becomes a task for the case's
   agent.

Why a crash never causes a second send
--------------------------------------
Before the first byte of a ``submit_sm`` leaves, the row's ``submit_started_at`` is written and
**committed**. A worker only claims rows with ``submit_started_at IS NULL``. So whatever happens after
that commit — the process dies before the SMSC answers, or after it answers but before the status is
written — the row stays *in doubt* and no worker submits it again. It is reconciled from the SMSC's
delivery receipt (matched by the number the receipt names and the first octets of the text it
quotes), or it expires, flagged for review. Only when the SMSC *explicitly refused* the message
(throttled, queue full: a ``submit_sm_resp`` with an error status), or the connection failed before
anything was written, is ``submit_started_at`` cleared and the row retried later with backoff.

Every status change goes through :func:`transition` (the map :data:`TRANSITIONS`), which writes the
``sms_status`` timeline event.

Other contexts' data comes through their facades (the day's decisions and open cases, the
customer's contact points, account figures and time zone, opt-out restrictions), or through the
relations of the SMS rows (a message's case and customer).
"""
from __future__ import annotations

import logging
import re
import threading
import time as _time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from arrears.contexts.audit.facade import record_audit_event as audit
from arrears.contexts.casework import facade as casework
from arrears.contexts.casework.facade import EventRow, record_case_event, record_case_events
from arrears.contexts.casework.facade import amounts_of, case_amounts, in_case_order
from arrears.contexts.contact.compliance.services import BLOCKING, check_contact, record_attempt
from arrears.contexts.money import facade as money
from arrears.contexts.portfolio import facade as portfolio
from arrears.core.machine import IllegalTransition, TransitionMap
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain import action_params, screening
from arrears.domain.masking import card_last4, mask_name
from arrears.domain.money import format_amounts, sum_by_currency
from arrears.adapters.smpp import GatewayError, Inbound, Outgoing, Receipt, Submitted
from arrears.core.privacy.crypto import normalize_phone

from . import policy as pol
from arrears.adapters import sms_segments as segments

from . import templating
from .models import InboundSms, NumberFlag, OutboundSms, SmsPart, SmsReplyTask, SmsTemplate

log = logging.getLogger("arrears.sms")

__all__ = ["TRANSITIONS", "IllegalSmsTransition", "SmsRefused", "transition", "save_template", "activate_template",
           "load_default_templates", "enqueue_from_decisions", "queue_for_case", "dispatch_due",
           "process_gateway_events", "handle_inbound", "is_opt_out", "render_for_case", "preview",
           "complete_reply_task", "clear_number_flag", "RateLimiter", "EVENT_KINDS"]

S = OutboundSms.Status
#: The one declared transition map of ``OutboundSms.status``.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.SUBMITTED, S.FAILED, S.EXPIRED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.DELIVERED, S.FAILED, S.EXPIRED}),
    S.DELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}
#: timeline text per status reached (msgids, translated when shown)
STATUS_REASON = {
    S.QUEUED: gettext_noop("短信已排队"),
    S.SUBMITTED: gettext_noop("短信已提交网关"),
    S.DELIVERED: gettext_noop("短信已送达"),
    S.FAILED: gettext_noop("短信发送失败"),
    S.EXPIRED: gettext_noop("短信已过期未发送"),
    S.CANCELLED: gettext_noop("短信已取消"),
}
EVENT_KINDS = ("sms_status", "sms_reply", "sms_opt_out", "sms_number_flagged")
#: how long a claim protects a row from other workers
CLAIM_LEASE = timedelta(minutes=5)
#: how long after expiry a submitted row / a row in doubt waits for a receipt before it expires
RECEIPT_WAIT = timedelta(days=2)


class IllegalSmsTransition(IllegalTransition):
    """A status move the map does not allow (or the row moved meanwhile)."""


#: The SMS map as the one transition helper checks it (:mod:`arrears.core.machine`).
MACHINE = TransitionMap("SMS", TRANSITIONS, error=IllegalSmsTransition)


class SmsRefused(ArrearsError, ValueError):
    """A request the SMS service refuses; ``code`` says why (``duplicate_today``, ``interval``,
    ``no_template``, ``case_closed``, ``task_closed``)."""

    code = ErrorCode.CONFLICT

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


# ---- the status machine ---------------------------------------------------------------------------
def _local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).isoformat()


def transition(sms: OutboundSms, to: str, *, at: datetime | None = None, actor=None, data: dict | None = None,
               **fields) -> OutboundSms:
    """Move ``sms`` to ``to`` (checked against :data:`TRANSITIONS`), update ``fields`` in the same
    conditional UPDATE and append the ``sms_status`` timeline event (with the debtor-local time).
    Raises :class:`IllegalSmsTransition` for a move the map refuses or when the row is no longer in
    the status read (a concurrent worker moved it): nothing is written then."""
    at = at or timezone.now()
    frm = sms.status
    MACHINE.check(frm, to)
    if to in (S.DELIVERED, S.FAILED, S.EXPIRED, S.CANCELLED):
        fields.setdefault("final_at", at)
    with transaction.atomic():
        n = OutboundSms.objects.filter(pk=sms.pk, status=frm).update(status=to, **fields)
        if n != 1:
            raise IllegalSmsTransition(MACHINE.name, frm, to, f"SMS {sms.pk} is no longer {frm}")
        tz = sms.customer.timezone if sms.customer_id else "Asia/Shanghai"
        record_case_event(
            sms.case_id, "sms_status", as_of=sms.send_day, actor=actor, reason=STATUS_REASON[to],
            data={"sms": sms.pk, "from": frm, "to": to, "template": sms.template_code, "key": sms.idempotency_key,
                  "local_time": _local(at, tz), **(data or {})}, at=at)
    sms.status = to
    for k, v in fields.items():
        setattr(sms, k, v)
    return sms


# ---- templates ----------------------------------------------------------------------------------
def _screen(text: str, language: str) -> list[screening.Match]:
    return screening.screen(text, lang="zh" if language == "zh-hans" else "en")


def check_template(body: str, variables: list[str], language: str) -> tuple[list[tuple[str, str]], templating.Rendered | None]:
    """Every problem of a template body: form (sandbox rules, declared variables, signature,
    opt-out line, one language), length with typical values, and content screening of the
    rendered sample (CN-PROHIBIT-01…, US-REGF-14…). ``(problems, rendered sample)``."""
    p = pol.policy()
    problems = templating.check_body(body, variables, language, p)
    if problems:
        return problems, None
    try:
        sample = templating.render(body, variables, language, templating.sample_context(language, p.hotline), p)
    except templating.TemplateRefused as exc:
        return exc.problems, None
    found = _screen(sample.text, language) + _screen(body, language)
    out = [("screening", f"{m.rule_id} ({m.category}): “{m.text}”") for m in found]
    return list(dict.fromkeys(out)), sample


@transaction.atomic
def save_template(*, code: str, language: str, body: str, variables: Iterable[str], name: str = "",
                  min_interval_days: int = 7, note: str = "", actor=None, activate: bool = False) -> SmsTemplate:
    """Save a new version of template ``code`` in ``language`` (versions are never edited). Refused
    with :class:`templating.TemplateRefused` listing every problem (nothing saved) when the body
    breaks a rule or the screening finds prohibited content. ``activate`` makes it the version in use."""
    language = templating.normalize_language(language)
    variables = sorted(set(v.strip() for v in variables if v and v.strip()))
    problems: list[tuple[str, str]] = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,47}", code or ""):
        problems.append(("code", "the code is 2–48 lower-case letters, digits, '-' or '_'"))
    if language not in templating.LANGUAGES:
        problems.append(("language", f"unsupported language {language!r}"))
    if not 0 <= int(min_interval_days) <= 365:
        problems.append(("interval", "the minimum interval is 0–365 days"))
    if not problems:
        more, sample = check_template(body, variables, language)
        problems += more
    if problems:
        raise templating.TemplateRefused(problems)
    last = SmsTemplate.objects.filter(code=code, language=language).order_by("-version").first()
    p = pol.policy()
    tpl = SmsTemplate.objects.create(
        code=code, language=language, version=(last.version + 1) if last else 1,
        name=name or (last.name if last else code), body=body, variables=variables,
        min_interval_days=min_interval_days, policy_version=p.version,
        screening_version=_screening_version(language), parts=sample.segments.parts,
        encoding=sample.segments.encoding, note=note, created_by=actor)
    audit("sms.template_saved", actor=actor, obj=tpl, data={"code": code, "language": language,
                                                           "version": tpl.version})
    if activate:
        activate_template(tpl.pk, actor=actor)
        tpl.refresh_from_db()
    return tpl


def _screening_version(language: str) -> str:
    try:
        from arrears.rules.lexicons import screening_lexicon

        return str(getattr(screening_lexicon("zh" if language == "zh-hans" else "en"), "version", ""))[:64]
    except Exception:  # pragma: no cover - the lexicon always loads in a working install
        return ""


@transaction.atomic
def activate_template(template_id: int, *, actor=None) -> SmsTemplate:
    """Make this version the one in use for its code and language (the previous one is retired).
    It is screened again first (the rules may have changed since it was saved)."""
    tpl = SmsTemplate.objects.select_for_update().get(pk=template_id)
    problems, _sample = check_template(tpl.body, tpl.variables, tpl.language)
    if problems:
        raise templating.TemplateRefused(problems)
    SmsTemplate.objects.filter(code=tpl.code, language=tpl.language, status=SmsTemplate.Status.ACTIVE) \
        .exclude(pk=tpl.pk).update(status=SmsTemplate.Status.RETIRED)
    SmsTemplate.objects.filter(pk=tpl.pk).update(status=SmsTemplate.Status.ACTIVE, activated_at=timezone.now())
    audit("sms.template_activated", actor=actor, obj=tpl, data={"code": tpl.code, "language": tpl.language,
                                                               "version": tpl.version})
    tpl.refresh_from_db()
    return tpl


def load_default_templates(*, actor=None) -> int:
    """Version 1 of every template in ``rules/sms/templates.yaml`` that has no version yet
    (saved through :func:`save_template`, so screened, and activated). Returns how many."""
    import yaml

    data = yaml.safe_load(pol.TEMPLATES_FILE.read_text(encoding="utf-8"))
    made = 0
    for t in data["templates"]:
        for language, body in t["bodies"].items():
            if SmsTemplate.objects.filter(code=t["code"], language=language).exists():
                continue
            names = t.get("name", {})
            used = sorted(_used_variables(body))
            save_template(code=t["code"], language=language, body=body, variables=used,
                          name=names.get(language) or t["code"], min_interval_days=t.get("min_interval_days", 7),
                          note="rules/sms/templates.yaml " + str(data.get("version", "")), actor=actor, activate=True)
            made += 1
    return made


def _used_variables(body: str) -> set[str]:
    from jinja2 import meta

    return meta.find_undeclared_variables(templating._ENV.parse(body))


def _active_templates(code: str) -> dict[str, SmsTemplate]:
    return {t.language: t for t in SmsTemplate.objects.filter(code=code, status=SmsTemplate.Status.ACTIVE)}


def resolve_template(code: str, customer_language: str, cache: dict | None = None
                     ) -> tuple[SmsTemplate | None, str, str]:
    """``(template, language, fallback note)``: the active version in the debtor's language, else the
    policy's default language — the whole message in that one language (R19). The note is ``""``
    when no fallback happened, else e.g. ``"fr-fr→zh-hans"``."""
    if cache is not None and code in cache:
        versions = cache[code]
    else:
        versions = _active_templates(code)
        if cache is not None:
            cache[code] = versions
    wanted = templating.normalize_language(customer_language)
    if wanted in versions:
        return versions[wanted], wanted, ""
    default = pol.policy().default_language
    tpl = versions.get(default)
    return tpl, default, f"{wanted or '-'}→{default}"


# ---- what a template may see --------------------------------------------------------------------
def _case_values(case, language: str, as_of: date) -> dict[str, str]:
    """The declared-variable values for ``case`` (a case row, its customer read through the
    relation): masked and formatted in ``language``. Amounts list every currency the debtor owes
    in, side by side, never their sum (``100.00元、50.00 USD``)."""
    p = pol.policy()
    accounts = portfolio.account_figures(case.customer_id)
    worst = accounts[0] if accounts else None
    figures = case_amounts(case)  # every currency the debtor owes in, the case's primary one first
    minimum = in_case_order(figures, sum_by_currency((a.currency, a.minimum_due) for a in accounts))
    dues = [a.oldest_unpaid_due_date for a in accounts if a.oldest_unpaid_due_date]
    name = case.customer.name or ""
    masked = mask_name(name)
    if language == "en" and templating.has_cjk(masked):
        masked = "Customer"
    return {
        "card_last4": (card_last4(worst.external_id) if worst else "") or "----",
        "overdue_amount": format_amounts(amounts_of(figures, "overdue"), language),
        "total_balance": format_amounts(amounts_of(figures, "balance"), language),
        "minimum_due": format_amounts(minimum or {case.currency: Decimal("0.00")}, language),
        "dpd": str(case.max_dpd),
        "due_date": templating.format_date(min(dues), language) if dues else "-",
        "as_of_date": templating.format_date(case.last_run_as_of or as_of, language),
        "masked_name": masked,
        "hotline": p.hotline,
    }


def render_for_case(case, code: str, *, as_of: date, cache: dict | None = None
                    ) -> tuple[SmsTemplate, templating.Rendered, str]:
    """Render template ``code`` for ``case`` in the debtor's language (or the default language in
    full) and screen the result. ``(template version, rendered message, fallback note)``.
    Raises :class:`SmsRefused` (``no_template``) or :class:`templating.TemplateRefused`."""
    tpl, language, fallback = resolve_template(code, case.customer.language, cache)
    if tpl is None:
        raise SmsRefused("no_template", f"no active template {code!r} in {language}")
    p = pol.policy()
    rendered = templating.render(tpl.body, tpl.variables, language, _case_values(case, language, as_of), p)
    problems = []
    found = _screen(rendered.text, language)
    problems += [("screening", f"{m.rule_id} ({m.category}): “{m.text}”") for m in found]
    if language == "en" and templating.has_cjk(rendered.text.removeprefix(p.signature(language))):
        problems.append(("mixed_language", "an English message would contain Chinese text"))
    if problems:
        raise templating.TemplateRefused(problems)
    return tpl, rendered, fallback


def preview(body: str, variables: list[str], language: str) -> dict:
    """The editor preview: the composed message with typical values, its encoding and parts, and
    every problem (form, length, screening) — nothing saved."""
    language = templating.normalize_language(language)
    if language not in templating.LANGUAGES:
        return {"problems": [("language", f"unsupported language {language!r}")], "text": "", "segments": None}
    problems, sample = check_template(body, variables, language)
    if sample is None:
        return {"problems": problems, "text": "", "segments": None}
    parts = segments.split(sample.text)
    return {"problems": problems, "text": sample.text, "segments": sample.segments, "parts": parts}


# ---- queueing -----------------------------------------------------------------------------------
def _chunks(items: list, size: int = 5000):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _key(case_id: int, code: str, day: date) -> str:
    return f"{case_id}:{code}:{day.isoformat()}"


def _intervals() -> dict[str, int]:
    out: dict[str, int] = {}
    for code, days in SmsTemplate.objects.filter(status=SmsTemplate.Status.ACTIVE) \
            .values_list("code", "min_interval_days"):
        out[code] = max(out.get(code, 0), days)
    return out


#: statuses after which a template counts as sent for the minimum interval
_COUNTS_AS_SENT = (S.QUEUED, S.SUBMITTED, S.DELIVERED)


def enqueue_from_decisions(as_of: date) -> dict:
    """Queue one SMS per open case whose strategy decision of business date ``as_of`` is ``sms``
    (``Case.action == "sms"``, ``decision_on == as_of``, template from ``action_params``).

    Set-based: one read of the day's decisions, one read of recent messages, one bulk insert that
    ignores rows whose idempotency key exists (a re-run, a concurrent run), one bulk write of the
    ``sms_status`` events. A case is skipped when the same template was queued or sent within the
    template's ``min_interval_days`` (R04), or when its template has no active version.

    Returns ``{"decided": n, "queued": n, "already_queued": n, "too_soon": n, "no_template": n,
    "bad_params": n}``. The worker is asked to dispatch after the commit.
    """
    p = pol.policy()
    now = timezone.now()
    decided = casework.decided_cases("sms", as_of)
    places = portfolio.customer_places({d.customer_id for d in decided})
    rows = [(d.id, d.customer_id, d.action_params, places[d.customer_id].timezone if d.customer_id in places else None)
            for d in decided]
    counts = Counter(decided=len(rows))
    intervals = _intervals()
    wanted: list[tuple[int, int, str, str]] = []
    for case_id, customer_id, params, tz in rows:
        code = action_params.parse(params).template
        if code is None:
            counts["bad_params"] += 1
        elif code not in intervals:
            counts["no_template"] += 1
        else:
            wanted.append((case_id, customer_id, code, tz or "Asia/Shanghai"))
    if wanted:
        longest = max(intervals.values()) if intervals else 0
        case_ids = [w[0] for w in wanted]
        recent: dict[tuple[int, str], date] = {}  # the latest earlier day each (case, template) went out
        existing: set[str] = set()
        for chunk in _chunks(case_ids):
            for cid, code, day in OutboundSms.objects.filter(
                    case_id__in=chunk, send_day__gte=as_of - timedelta(days=max(longest, 1)), send_day__lt=as_of,
                    status__in=_COUNTS_AS_SENT).values_list("case_id", "template_code", "send_day"):
                if day > recent.get((cid, code), date.min):
                    recent[(cid, code)] = day
            existing.update(OutboundSms.objects.filter(send_day=as_of, case_id__in=chunk)
                            .values_list("idempotency_key", flat=True))
        new: list[OutboundSms] = []
        for case_id, customer_id, code, tz in wanted:
            key = _key(case_id, code, as_of)
            last = recent.get((case_id, code))
            if key in existing:
                counts["already_queued"] += 1
                continue
            if last is not None and (as_of - last).days < intervals[code]:
                counts["too_soon"] += 1
                continue
            new.append(OutboundSms(
                case_id=case_id, customer_id=customer_id, template_code=code, send_day=as_of, idempotency_key=key,
                origin=OutboundSms.Origin.STRATEGY, status=S.QUEUED, policy_version=p.version,
                not_before=max(now, pol.window_bounds(as_of, tz, p)[0]), expires_at=pol.expiry_for(as_of, tz, p)))
        with transaction.atomic():
            OutboundSms.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
            created: list[tuple] = []
            for chunk in _chunks([n.idempotency_key for n in new]):
                created += OutboundSms.objects.filter(idempotency_key__in=chunk, created_at__gte=now) \
                    .values_list("id", "case_id", "template_code", "idempotency_key")
            counts["queued"] = len(created)
            counts["already_queued"] += len(new) - len(created)
            record_case_events((EventRow(case_id=c, kind="sms_status", as_of=as_of, reason=STATUS_REASON[S.QUEUED],
                                    data={"sms": i, "to": S.QUEUED, "template": code, "key": k, "origin": "strategy"})
                           for i, c, code, k in created), at=now)
            if created:
                transaction.on_commit(_kick)
    return {k: counts.get(k, 0) for k in ("decided", "queued", "already_queued", "too_soon", "no_template",
                                          "bad_params")}


def queue_for_case(case, template_code: str, *, actor=None, now: datetime | None = None) -> OutboundSms:
    """An agent's SMS: queued for the debtor's local today (sent at once when inside the window,
    else at the next window start). :class:`SmsRefused` when the case is closed, the template has
    no active version, it was queued for this case today already (``duplicate_today``) or within
    its minimum interval (``interval``)."""
    now = now or timezone.now()
    if case.is_closed:
        raise SmsRefused("case_closed", "the case is closed")
    versions = _active_templates(template_code)
    if not versions:
        raise SmsRefused("no_template", f"no active template {template_code!r}")
    p = pol.policy()
    tz = case.customer.timezone or "Asia/Shanghai"
    day = pol.local_day(now, tz)
    interval = max(t.min_interval_days for t in versions.values())
    if interval and OutboundSms.objects.filter(case=case, template_code=template_code, status__in=_COUNTS_AS_SENT,
                                               send_day__gt=day - timedelta(days=interval), send_day__lt=day).exists():
        raise SmsRefused("interval", f"template {template_code!r} was sent to this case less than {interval} days ago")
    try:
        with transaction.atomic():
            sms = OutboundSms.objects.create(
                case=case, customer_id=case.customer_id, template_code=template_code, send_day=day,
                idempotency_key=_key(case.pk, template_code, day), origin=OutboundSms.Origin.AGENT, created_by=actor,
                status=S.QUEUED, policy_version=p.version, not_before=pol.next_window_start(now, tz, p),
                expires_at=pol.expiry_for(day, tz, p))
            record_case_event(case.pk, "sms_status", as_of=day, actor=actor, reason=STATUS_REASON[S.QUEUED],
                              data={"sms": sms.pk, "to": S.QUEUED, "template": template_code,
                                    "key": sms.idempotency_key, "origin": "agent", "local_time": _local(now, tz)},
                              at=now)
            transaction.on_commit(_kick)
    except IntegrityError:
        raise SmsRefused("duplicate_today", f"template {template_code!r} is already queued for this case today") from None
    return sms


def _kick() -> None:
    """Ask the worker to dispatch (the database queue in production; eager with the immediate backend)."""
    from .tasks import dispatch_outbox

    try:
        dispatch_outbox.enqueue()
    except Exception:  # the rows stay queued: the next worker pass or `arrears sms_dispatch` sends them
        log.exception("could not enqueue the SMS dispatch task")


# ---- dispatch -----------------------------------------------------------------------------------
class RateLimiter:
    """Token bucket: at most ``rate`` messages per second towards the gateway (bursts of ``rate``)."""

    def __init__(self, rate: float, *, clock=_time.monotonic, sleep=_time.sleep) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.last = clock()
        self.waited = 0.0
        self._lock = threading.Lock()

    def acquire(self, n: int = 1) -> None:
        with self._lock:
            while True:
                t = self.clock()
                self.tokens = min(self.capacity, self.tokens + (t - self.last) * self.rate)
                self.last = t
                if self.tokens >= n - 1e-9 or (n > self.capacity and self.tokens >= self.capacity - 1e-9):
                    self.tokens -= n
                    return
                wait = (min(n, self.capacity) - self.tokens) / self.rate
                self.waited += wait
                self.sleep(wait)


_LIMITERS: dict[float, RateLimiter] = {}


def _limiter(rate: float) -> RateLimiter:
    if rate not in _LIMITERS:
        _LIMITERS[rate] = RateLimiter(rate)
    return _LIMITERS[rate]


def _claim(now: datetime, limit: int) -> tuple[str, list[int]]:
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = (OutboundSms.objects.filter(status=S.QUEUED, not_before__lte=now, submit_started_at__isnull=True)
              .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).order_by("not_before", "id"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            OutboundSms.objects.filter(id__in=ids).update(claim_token=token, claimed_until=now + CLAIM_LEASE)
    return token, ids


def _release(sms: OutboundSms, **fields) -> None:
    OutboundSms.objects.filter(pk=sms.pk, status=S.QUEUED).update(claim_token="", claimed_until=None, **fields)


def _expire_overdue(now: datetime) -> int:
    """Queued rows past their expiry (never sent late) and submitted / in-doubt rows that never got
    a receipt within :data:`RECEIPT_WAIT` after it → expired."""
    n = 0
    stale = OutboundSms.objects.select_related("customer").filter(
        Q(status=S.QUEUED, submit_started_at__isnull=True, expires_at__lte=now)
        | Q(status=S.QUEUED, submit_started_at__isnull=False, expires_at__lte=now - RECEIPT_WAIT)
        | Q(status=S.SUBMITTED, expires_at__lte=now - RECEIPT_WAIT)).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))[:1000]
    for sms in stale:
        doubt = sms.submit_started_at is not None and sms.status == S.QUEUED
        try:
            transition(sms, S.EXPIRED, at=now, data={"in_doubt": doubt, "reason": "no_receipt" if (
                doubt or sms.status == S.SUBMITTED) else "not_sent_in_window"},
                       error="in doubt: no receipt" if doubt else sms.error)
            n += 1
        except IllegalSmsTransition:
            continue
    return n


def _usable_mobile(customer) -> tuple[portfolio.ContactPoint | None, str]:
    """The debtor's own mobile to text: not opted out, not flagged as undeliverable."""
    mobiles = portfolio.contact_points(customer.id, kinds=("mobile",), party="debtor")
    if not mobiles:
        return None, "no_mobile"
    ids = [c.id for c in mobiles]
    opted = {r.contact_id for r in money.contact_restrictions(ids, kind="opted_out")}
    flagged = set(NumberFlag.objects.filter(contact_id__in=ids, cleared_at__isnull=True)
                  .values_list("contact_id", flat=True))
    for c in mobiles:
        if c.id not in opted and c.id not in flagged:
            return c, ""
    return None, "opted_out" if opted else "number_flagged"


def _sent_today(customer, now: datetime, p: pol.Policy) -> int:
    tz = customer.timezone or "Asia/Shanghai"
    day = pol.local_day(now, tz)
    start = pol.day_start(day, tz)
    return OutboundSms.objects.filter(customer_id=customer.id, submit_started_at__gte=start,
                                      submit_started_at__lt=pol.day_start(day + timedelta(days=1), tz)).count()


@dataclass
class _Ready:
    sms: OutboundSms
    msg: Outgoing
    contact: portfolio.ContactPoint
    decision: object
    rendered: templating.Rendered


def _prepare(sms: OutboundSms, now: datetime, p: pol.Policy, cache: dict, counts: Counter,
             this_pass: Counter) -> _Ready | None:
    """Decide one claimed row: ready to submit, or deferred / cancelled / failed (written here)."""
    case, customer = sms.case, sms.customer
    tz = customer.timezone or "Asia/Shanghai"
    if case.is_closed:
        transition(sms, S.CANCELLED, at=now, data={"reason": "case_closed"}, error="case closed", claim_token="")
        counts["cancelled"] += 1
        return None
    # 1. the debtor-local send window (R14): wait for its next start in the debtor's zone
    if not pol.in_window(now, tz, p):
        nxt = pol.next_window_start(now, tz, p)
        if nxt >= sms.expires_at:
            transition(sms, S.EXPIRED, at=now, data={"reason": "not_sent_in_window"}, claim_token="")
            counts["expired"] += 1
        else:
            _release(sms, not_before=nxt, deferred_reason="outside_window")
            counts["deferred_window"] += 1
        return None
    # 2. the per-debtor daily cap
    if _sent_today(customer, now, p) + this_pass[customer.pk] >= p.max_per_debtor_per_day:
        nxt = pol.window_bounds(pol.local_day(now, tz) + timedelta(days=1), tz, p)[0]
        if nxt >= sms.expires_at:
            transition(sms, S.EXPIRED, at=now, data={"reason": "daily_cap"}, claim_token="")
            counts["expired"] += 1
        else:
            _release(sms, not_before=nxt, deferred_reason="daily_cap")
            counts["deferred_cap"] += 1
        return None
    # 3. a number we may text
    contact, why = _usable_mobile(customer)
    if contact is None:
        transition(sms, S.CANCELLED, at=now, data={"reason": why}, error=why, claim_token="")
        counts["cancelled"] += 1
        return None
    # 4. render in the debtor's language (or the default language in full) and screen it
    try:
        tpl, rendered, fallback = render_for_case(case, sms.template_code, as_of=sms.send_day, cache=cache)
    except SmsRefused as exc:
        transition(sms, S.FAILED, at=now, data={"reason": exc.code}, error=str(exc)[:255], claim_token="")
        counts["failed"] += 1
        return None
    except templating.TemplateRefused as exc:
        transition(sms, S.FAILED, at=now, data={"reason": "content", "problems": exc.codes},
                   error=str(exc)[:255], claim_token="")
        counts["failed"] += 1
        return None
    if fallback:
        log.info("SMS %s: no %s template, sent in %s", sms.idempotency_key, fallback.split("→")[0], rendered.language)
    # 5. the compliance gate, with the content
    decision = check_contact(case=case, channel="sms", at=now, contact=contact, content=rendered.text,
                             purpose="collect", caller_kind="bank", caller="sms")
    if decision.decision in BLOCKING:
        nxt = decision.next_allowed_at
        if nxt is not None and nxt < sms.expires_at:
            _release(sms, not_before=max(nxt, pol.next_window_start(nxt, tz, p)), deferred_reason="gate",
                     gate_decision=decision.decision, gate_rule_ids=decision.rule_ids)
            counts["deferred_gate"] += 1
        else:
            transition(sms, S.CANCELLED, at=now, data={"reason": "gate", "rule_ids": decision.rule_ids},
                       gate_decision=decision.decision, gate_rule_ids=decision.rule_ids, claim_token="")
            counts["cancelled"] += 1
        return None
    this_pass[customer.pk] += 1
    sms.template_id, sms.language, sms.language_fallback = tpl.pk, rendered.language, fallback
    sms.body, sms.encoding, sms.parts = rendered.text, rendered.segments.encoding, rendered.segments.parts
    return _Ready(sms, Outgoing(sms.idempotency_key, normalize_phone(contact.value), rendered.text), contact,
                  decision, rendered)


def dispatch_due(*, now: datetime | None = None, limit: int = 500, gateway=None, poll_seconds: float = 0.0,
                 rate_per_second: float | None = None) -> dict:
    """One worker pass: expire what is overdue, claim up to ``limit`` due rows, decide each
    (window, cap, number, rendering, screening, gate), submit the ready ones rate-limited, write
    each outcome as it arrives, then read receipts and replies for ``poll_seconds``.

    Returns counts: ``claimed``, ``submitted``, ``deferred_window``, ``deferred_cap``,
    ``deferred_gate``, ``retry``, ``failed``, ``cancelled``, ``expired``, ``in_doubt``, ``receipts``.
    """
    now = now or timezone.now()
    p = pol.policy()
    counts: Counter = Counter()
    counts["expired"] += _expire_overdue(now)
    token, ids = _claim(now, limit)
    counts["claimed"] = len(ids)
    from .gateways import get_gateway

    gw = gateway or get_gateway()
    ready: list[_Ready] = []
    cache: dict = {}
    this_pass: Counter = Counter()
    rows = OutboundSms.objects.select_related("case", "customer").filter(id__in=ids, claim_token=token) \
        .order_by("not_before", "id")
    for sms in rows:
        try:
            r = _prepare(sms, now, p, cache, counts, this_pass)
        except IllegalSmsTransition:
            continue
        if r is not None:
            ready.append(r)
    if ready:
        _submit(ready, gw, now, p, counts, rate_per_second or p.rate_per_second)
    if poll_seconds or ready:
        counts["receipts"] += process_gateway_events(gw.poll(poll_seconds), gw.name)
    return {k: counts.get(k, 0) for k in ("claimed", "submitted", "deferred_window", "deferred_cap", "deferred_gate",
                                          "retry", "failed", "cancelled", "expired", "in_doubt", "receipts")}


def _submit(ready: list[_Ready], gw, now: datetime, p: pol.Policy, counts: Counter, rate: float) -> None:
    limiter = _limiter(rate)
    chunk = max(1, int(rate))
    by_ref = {r.msg.ref: r for r in ready}
    for i in range(0, len(ready), chunk):
        part = ready[i:i + chunk]
        limiter.acquire(len(part))
        # the write-ahead mark, committed before any byte leaves (see the module docstring)
        started = now
        with transaction.atomic():
            OutboundSms.objects.filter(id__in=[r.sms.pk for r in part], status=S.QUEUED,
                                       submit_started_at__isnull=True) \
                .update(submit_started_at=started, gateway=gw.name)
            for r in part:
                OutboundSms.objects.filter(pk=r.sms.pk).update(
                    template_id=r.sms.template_id, language=r.sms.language, language_fallback=r.sms.language_fallback,
                    body=r.sms.body, encoding=r.sms.encoding, parts=r.sms.parts, attempts=r.sms.attempts + 1,
                    contact_id=r.contact.id)
                r.sms.contact_id = r.contact.id
                r.sms.submit_started_at = started

        def done(msg: Outgoing, res: Submitted | GatewayError) -> None:
            _record_outcome(by_ref[msg.ref], res, gw.name, now, p, counts)

        results = gw.submit_many([r.msg for r in part], on_result=done)
        if results and all(isinstance(x, GatewayError) and x.transient and not x.maybe_sent
                           and str(x).startswith("cannot bind") for x in results):
            rest = ready[i + chunk:]  # the SMSC is unreachable: the others wait for the next pass
            OutboundSms.objects.filter(id__in=[r.sms.pk for r in rest], status=S.QUEUED,
                                       submit_started_at__isnull=True).update(claim_token="", claimed_until=None,
                                                                              deferred_reason="gateway_down")
            counts["retry"] += len(rest)
            break


def _record_outcome(r: _Ready, res: Submitted | GatewayError, gw_name: str, now: datetime, p: pol.Policy,
                    counts: Counter) -> None:
    sms = r.sms
    tz = sms.customer.timezone or "Asia/Shanghai"
    if isinstance(res, Submitted):
        with transaction.atomic():
            SmsPart.objects.bulk_create([SmsPart(sms=sms, seq=k, message_id=mid, gateway=gw_name)
                                         for k, mid in enumerate(res.message_ids, start=1)])
            transition(sms, S.SUBMITTED, at=now, submitted_at=now, claim_token="", claimed_until=None,
                       data={"parts": len(res.message_ids), "language": sms.language,
                             "language_fallback": sms.language_fallback, "template_version": sms.template_id})
            record_attempt(case=sms.case, channel="sms", outcome="sent", decision=r.decision, contact=r.contact,
                           at=now, purpose="collect", caller_kind="bank", caller="sms")
        counts["submitted"] += 1
        return
    if res.maybe_sent:  # in doubt: never resubmitted; reconciled from receipts or expired
        OutboundSms.objects.filter(pk=sms.pk).update(error=f"in doubt: {res}"[:255], claim_token="",
                                                     claimed_until=None)
        counts["in_doubt"] += 1
        return
    permanent = res.status is not None and (res.status in p.permanent_statuses or not res.transient)
    if res.transient and not (res.status is not None and res.status in p.permanent_statuses):
        attempts = sms.attempts + 1
        if attempts >= p.max_attempts:
            transition(sms, S.FAILED, at=now, error=str(res)[:255], claim_token="",
                       data={"reason": "retries_exhausted", "status": res.status, "attempts": attempts})
            counts["failed"] += 1
            return
        nxt = now + p.backoff(attempts)
        nxt = pol.next_window_start(nxt, tz, p)
        if nxt >= sms.expires_at:
            transition(sms, S.EXPIRED, at=now, error=str(res)[:255], claim_token="",
                       data={"reason": "retry_after_expiry", "status": res.status})
            counts["expired"] += 1
            return
        _release(sms, submit_started_at=None, not_before=nxt, error=str(res)[:255], deferred_reason="retry")
        counts["retry"] += 1
        return
    with transaction.atomic():
        transition(sms, S.FAILED, at=now, error=str(res)[:255], claim_token="",
                   data={"reason": "refused", "status": res.status})
        if permanent and res.status in p.permanent_statuses:
            _flag_number(r.contact, sms, f"smpp_status_0x{res.status:08X}", now)
    counts["failed"] += 1


def _flag_number(contact, sms: OutboundSms | None, reason: str, at: datetime) -> None:
    """Flag the number of ``contact`` (a contact point: ``id``, ``customer_id``) as undeliverable."""
    if NumberFlag.objects.filter(contact_id=contact.id, cleared_at__isnull=True).exists():
        return
    try:
        with transaction.atomic():
            NumberFlag.objects.create(contact_id=contact.id, sms=sms, reason=reason, since=at)
    except IntegrityError:
        return
    for case in casework.open_cases_of([contact.customer_id]):
        record_case_event(case.id, "sms_number_flagged", reason=gettext_noop("号码无法送达，已标记异常"),
                          data={"contact": contact.id, "reason": reason, "sms": sms.pk if sms else None}, at=at)


def clear_number_flag(flag_id: int, *, actor) -> None:
    """The desk checked the number (skip tracing): SMS may go to it again."""
    NumberFlag.objects.filter(pk=flag_id, cleared_at__isnull=True).update(cleared_at=timezone.now(), cleared_by=actor)
    audit("sms.number_flag_cleared", actor=actor, obj=("sms.numberflag", flag_id))


# ---- receipts and replies -------------------------------------------------------------------------
_FAILED_STATES = {"UNDELIV", "REJECTD", "DELETED"}


def process_gateway_events(events: Iterable[Receipt | Inbound], gateway_name: str) -> int:
    """Apply receipts and replies from the gateway; returns how many were applied. Idempotent: a
    receipt repeated by the SMSC changes nothing the second time."""
    n = 0
    for ev in events:
        try:
            if isinstance(ev, Receipt):
                n += _apply_receipt(ev, gateway_name)
            elif isinstance(ev, Inbound):
                handle_inbound(ev, gateway_name)
                n += 1
        except Exception:
            log.exception("could not apply gateway event %r", ev)
    return n


def _quotes(sms: OutboundSms, prefix: str) -> bool:
    """Does the receipt's ``text:`` (the first octets of a part, as the SMSC quotes them) come from
    this message? Compared over the first 16 octets of every part, UDH or SAR form."""
    import zlib

    ref = zlib.crc32(sms.idempotency_key.encode()) & 0xFF
    want = prefix.encode("latin-1", errors="replace")[:16]
    parts = segments.encode_parts(sms.body, ref=ref, udh=True)[1] + segments.encode_parts(sms.body, ref=ref, udh=False)[1]
    return any(x[:len(want)] == want for x in parts)


def _reconcile(receipt: Receipt, gateway_name: str) -> SmsPart | None:
    """A receipt for a message id we never recorded: the submit of a row in doubt got through.
    Match it by the number and the text prefix the receipt quotes; record the part."""
    number = normalize_phone(receipt.destination)
    if not number:
        return None
    candidates = []
    for sms in OutboundSms.objects.select_related("contact", "customer").filter(
            status__in=(S.QUEUED, S.SUBMITTED), submit_started_at__isnull=False, gateway=gateway_name,
            final_at__isnull=True):
        if sms.contact is None or normalize_phone(sms.contact.value) != number:
            continue
        if SmsPart.objects.filter(sms=sms).count() >= max(sms.parts, 1):
            continue
        if receipt.text_prefix and sms.body and not _quotes(sms, receipt.text_prefix):
            continue
        candidates.append(sms)
    if len(candidates) != 1:
        return None
    sms = candidates[0]
    with transaction.atomic():
        seq = SmsPart.objects.filter(sms=sms).count() + 1
        part = SmsPart.objects.create(sms=sms, seq=seq, message_id=receipt.message_id, gateway=gateway_name)
        if sms.status == S.QUEUED:
            mobile = sms.contact
            at = timezone.now()
            transition(sms, S.SUBMITTED, at=at, submitted_at=sms.submit_started_at, error="",
                       data={"reconciled": True})
            record_attempt(case=sms.case, channel="sms", outcome="sent", decision="allow", contact=mobile,
                           at=sms.submit_started_at, purpose="collect", caller_kind="bank", caller="sms")
    return part


def _apply_receipt(receipt: Receipt, gateway_name: str) -> int:
    part = SmsPart.objects.select_related("sms", "sms__customer", "sms__contact").filter(
        gateway=gateway_name, message_id=receipt.message_id).first()
    if part is None:
        part = _reconcile(receipt, gateway_name)
        if part is None:
            log.warning("receipt for unknown message id %s", receipt.message_id)
            return 0
        part = SmsPart.objects.select_related("sms", "sms__customer", "sms__contact").get(pk=part.pk)
    if part.state == receipt.state:
        return 0
    now = timezone.now()
    SmsPart.objects.filter(pk=part.pk).update(state=receipt.state, error=receipt.error[:16], updated_at=now)
    sms = part.sms
    if sms.status != S.SUBMITTED:
        return 1
    states = dict(SmsPart.objects.filter(sms=sms).values_list("seq", "state"))
    states[part.seq] = receipt.state
    p = pol.policy()
    data = {"message_id": receipt.message_id, "stat": receipt.state, "err": receipt.error}
    if receipt.state in _FAILED_STATES:
        with transaction.atomic():
            transition(sms, S.FAILED, at=now, error=f"{receipt.state} err:{receipt.error}", data=data)
            contact = sms.contact or _contact_for_number(sms.customer_id, receipt.destination)
            # (a contact row read through the message, or a contact point: either has id and customer_id)
            if receipt.error in p.permanent_receipt_errors and contact is not None:
                _flag_number(contact, sms, f"receipt_{receipt.state}_{receipt.error}", now)
    elif receipt.state == "EXPIRED":
        transition(sms, S.EXPIRED, at=now, data=data)
    elif receipt.state == "DELIVRD" and len(states) >= sms.parts and all(s == "DELIVRD" for s in states.values()):
        transition(sms, S.DELIVERED, at=now, data=data)
    return 1


def _contact_for_number(customer_id: int, number: str) -> portfolio.ContactPoint | None:
    n = normalize_phone(number)
    return next((c for c in portfolio.contact_points(customer_id, kinds=("mobile",))
                 if normalize_phone(c.value) == n), None)


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def is_opt_out(text: str, keywords: Iterable[str] | None = None) -> bool:
    """Does a reply ask to stop SMS? Keywords (policy: TD, 退订, STOP …) match case-insensitively
    after NFKC folding (full-width ＴＤ, ｓｔｏｐ); Latin keywords as whole words ("stop" but not
    "stopped"/"ATDX"), Chinese ones anywhere (我要退订)."""
    kws = tuple(keywords if keywords is not None else pol.policy().opt_out_keywords)
    folded = unicodedata.normalize("NFKC", text or "").casefold().strip()
    if not folded:
        return False
    words = set(w for w in _PUNCT.split(folded) if w)
    for kw in kws:
        k = unicodedata.normalize("NFKC", kw).casefold()
        if templating.has_cjk(k):
            if k in folded:
                return True
        elif k in words:
            return True
    return False


def handle_inbound(msg: Inbound, gateway_name: str) -> InboundSms | None:
    """A reply from a handset: matched to the customer(s) whose contact has this number (blind
    index). An opt-out keyword records an ``opted_out`` restriction on every matching mobile (the
    gate then refuses SMS to it: §1006.6(e)-style medium block / 《通信短信息服务管理规定》第十九条)
    with an ``sms_opt_out`` event; any other reply becomes an :class:`SmsReplyTask` for the agent of
    the customer's open case. A redelivered reply (same gateway reference) is ignored."""
    if msg.ref and InboundSms.objects.filter(gateway=gateway_name, gateway_ref=msg.ref).exists():
        return None
    contacts = portfolio.phone_contact_points(msg.source)
    customers = sorted({c.customer_id for c in contacts})
    cases = casework.open_cases_of(customers)
    opt_out = is_opt_out(msg.text)
    outcome = InboundSms.Outcome.UNMATCHED if not contacts else (
        InboundSms.Outcome.OPTED_OUT if opt_out else InboundSms.Outcome.TASK)
    at = msg.received_at
    with transaction.atomic():
        try:
            inbound = InboundSms.objects.create(received_at=at, gateway=gateway_name, gateway_ref=msg.ref[:96],
                                                sender=msg.source, text=msg.text[:2000], outcome=outcome,
                                                customer_id=customers[0] if len(customers) == 1 else None,
                                                case_id=cases[0].id if len(cases) == 1 else None)
        except IntegrityError:
            return None
        if outcome == InboundSms.Outcome.OPTED_OUT:
            for c in contacts:
                if c.kind != "mobile":
                    continue
                money.restrict_contact(c.id, "opted_out", at, unless_present=True)
            audit("sms.opted_out", obj=inbound, data={"contacts": [c.id for c in contacts],
                                                      "customers": customers})
            record_case_events([EventRow(case_id=case.id, kind="sms_opt_out",
                                    reason=gettext_noop("客户回复退订，号码已退订短信"),
                                    data={"inbound": inbound.pk, "contacts": [c.id for c in contacts
                                                                              if c.customer_id == case.customer_id]})
                           for case in cases], at=at)
            # nothing more goes to this number: queued messages of these customers are re-checked by
            # the gate at dispatch (the restriction is a medium block) and cancelled there
        elif outcome == InboundSms.Outcome.TASK:
            if cases:  # one task, for the agent of the (first) open case of the number's customer
                SmsReplyTask.objects.create(case_id=cases[0].id, inbound=inbound,
                                            assigned_to_id=cases[0].assigned_to_id, created_at=at)
            record_case_events([EventRow(case_id=case.id, kind="sms_reply",
                                    reason=gettext_noop("客户回复短信，已生成待办"),
                                    data={"inbound": inbound.pk}) for case in cases], at=at)
    return inbound


def complete_reply_task(task_id: int, *, actor) -> SmsReplyTask:
    """Mark a reply task done (the agent read and handled the reply)."""
    with transaction.atomic():
        task = SmsReplyTask.objects.select_for_update().get(pk=task_id)
        if task.status != SmsReplyTask.Status.OPEN:
            raise SmsRefused("task_closed", "the task is already done")
        task.status, task.done_at, task.done_by = SmsReplyTask.Status.DONE, timezone.now(), actor
        task.save(update_fields=["status", "done_at", "done_by"])
    return task


def erase_customer_sms_data(customer) -> int:
    """Retention purge (:mod:`arrears.contexts.audit.retention`): erase the personal content of the
    customer's messages — the rendered text of outbound SMS and the sender number and text of
    replies; statuses, times and idempotency keys stay (the record that a message was sent).
    Returns the messages touched."""
    from .models import InboundSms, OutboundSms

    n = OutboundSms.objects.filter(customer=customer).exclude(body="").update(body="")
    for msg in InboundSms.objects.filter(customer=customer):
        msg.sender, msg.text = "", ""
        msg.save(update_fields=["sender", "text"])
        n += 1
    return n
