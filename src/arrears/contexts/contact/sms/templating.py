"""SMS templates: sandboxed Jinja2 over declared, pre-masked variables. Pure (no Django, no I/O).

A template body is Jinja2 text rendered in :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`
with ``StrictUndefined``; before that, :func:`check_body` walks the parsed template and refuses
anything but text, the declared variables, ``if``/``else`` on them and a few harmless filters — no
attribute or item access, no calls, no ``include``/``import``/``extends``/``macro``/``set`` — so
``{{ ''.__class__.__mro__ }}``, ``{{ cycler.__init__.__globals__ }}`` and friends are refused
when the template is saved, and the sandbox refuses them again if one ever got through.

Variables (:data:`VARIABLES`) are strings the system prepares from the case, already masked and
formatted in the *template's* language (never the browser's or the server's): the last four card
digits, amounts with two decimals in every currency the debtor owes in, side by side and never
added up (:func:`arrears.domain.money.format_amounts`: ``100.00元、50.00 USD`` /
``CNY 100.00, USD 50.00``), dates written out so that day and month cannot be swapped
(``2025年2月3日`` / ``3 February 2025``, R19). A template never sees a full card number, phone
number, ID number or name.

The composed message is ``signature + body + opt-out line`` of the template's language
(``【深圳示例银行】…回复TD退订``): Chinese carriers require the registered signature in 【】 (工信部
《通信短信息服务管理规定》第二十条/《短信息服务规范》), and the opt-out line is the policy's
(《通信短信息服务管理规定》第十九条: a way to refuse further messages). Bodies therefore must not
carry a signature or an opt-out line of their own.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.money import format_money

from arrears.adapters import sms_segments as segments
from .policy import Policy

__all__ = ["VARIABLES", "LANGUAGES", "TemplateRefused", "Rendered", "check_body", "render", "compose",
           "format_date", "sample_context", "normalize_language", "has_cjk", "ALLOWED_FILTERS"]

#: The variables a template may declare: name → (zh description, en description).
VARIABLES: dict[str, tuple[str, str]] = {
    "card_last4": ("卡号后四位", "last four digits of the card"),
    "overdue_amount": ("逾期金额（各币种分列）", "overdue amount (each currency)"),
    "total_balance": ("欠款余额（各币种分列）", "balance owed (each currency)"),
    "minimum_due": ("最低还款额（各币种分列）", "minimum payment (each currency)"),
    "dpd": ("逾期天数", "days past due"),
    "due_date": ("最早未还到期日", "oldest unpaid due date"),
    "as_of_date": ("数据日期", "as-of date"),
    "masked_name": ("客户姓名（脱敏）", "customer name (masked)"),
    "hotline": ("客服电话", "hotline"),
}
LANGUAGES = ("zh-hans", "en")
ALLOWED_FILTERS = frozenset({"trim", "upper", "lower", "default"})
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
                  nodes.Filter, nodes.Not, nodes.And, nodes.Or, nodes.Compare, nodes.Operand, nodes.Concat)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60]")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.filters = {k: v for k, v in _ENV.filters.items() if k in ALLOWED_FILTERS}
_ENV.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict


#: the template form's input a problem code points at (the body otherwise)
_PROBLEM_FIELDS = {"code": "code", "language": "language", "interval": "min_interval_days",
                   "unknown_variable": "variables", "undeclared_variable": "variables"}


class TemplateRefused(ArrearsError, ValueError):
    """A template body (or its rendering) is not acceptable; ``problems`` lists every reason as
    ``(code, text)`` pairs (``details["problems"]``: ``{"code", "text"}``)."""

    code = ErrorCode.TEMPLATE_REFUSED

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(t for _, t in problems),
                         field=_PROBLEM_FIELDS.get(problems[0][0], "body") if problems else None,
                         details={"problems": [{"code": c, "text": t} for c, t in problems]})

    @property
    def codes(self) -> list[str]:
        return [c for c, _ in self.problems]


def normalize_language(tag: str | None) -> str:
    """``zh``, ``zh-CN``, ``zh_Hans`` → ``zh-hans``; ``en-US`` → ``en``; anything else lower-cased
    as given (e.g. ``fr-fr``), so the caller can see there is no template for it."""
    t = (tag or "").strip().replace("_", "-").lower()
    if t.startswith("zh"):
        return "zh-hans"
    if t == "en" or t.startswith("en-"):
        return "en"
    return t


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def format_date(d: date, language: str) -> str:
    """``2025-02-03`` → ``2025年2月3日`` / ``3 February 2025``: day and month cannot be swapped."""
    if language == "zh-hans":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def sample_context(language: str, hotline: str) -> dict[str, str]:
    """Typical values for the preview and for the checks made when a template is saved."""
    return {
        "card_last4": "1234", "overdue_amount": format_money(Decimal("1234.50"), "CNY", language),
        "total_balance": format_money(Decimal("56789.00"), "CNY", language),
        "minimum_due": format_money(Decimal("300.00"), "CNY", language), "dpd": "35",
        "due_date": format_date(date(2025, 2, 3), language), "as_of_date": format_date(date(2025, 3, 10), language),
        "masked_name": "张*" if language == "zh-hans" else "Z*** S***", "hotline": hotline,
    }


def _walk(node: nodes.Node):
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def check_body(body: str, declared: list[str], language: str, p: Policy) -> list[tuple[str, str]]:
    """Every problem of a template body (empty list: acceptable as far as form goes; content
    screening is applied to the rendered sample by the caller)."""
    problems: list[tuple[str, str]] = []
    if language not in p.languages:
        problems.append(("language", f"language {language!r} has no signature/opt-out line in the policy"))
    if not body or not body.strip():
        return problems + [("empty", "the body is empty")]
    unknown = sorted(set(declared) - set(VARIABLES))
    if unknown:
        problems.append(("unknown_variable", f"variables not offered by the system: {', '.join(unknown)}"))
    try:
        ast = _ENV.parse(body)
    except TemplateSyntaxError as exc:
        return problems + [("syntax", f"template syntax error on line {exc.lineno}: {exc.message}")]
    for n in _walk(ast):
        if not isinstance(n, _ALLOWED_NODES):
            problems.append(("forbidden_construct", f"not allowed in an SMS template: {type(n).__name__}"))
        elif isinstance(n, nodes.Filter) and n.name not in ALLOWED_FILTERS:
            problems.append(("forbidden_filter", f"filter {n.name!r} is not allowed"))
        elif isinstance(n, nodes.Name) and n.name.startswith("_"):
            problems.append(("forbidden_construct", f"name {n.name!r} is not allowed"))
    if problems:
        return problems
    try:
        used = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:
        return problems + [("syntax", f"template error: {exc.message}")]
    undeclared = sorted(used - set(declared))
    if undeclared:
        problems.append(("undeclared_variable", f"variables used but not declared: {', '.join(undeclared)}"))
    if "【" in body or "】" in body:
        problems.append(("signature_in_body", "the signature 【…】 is added by the system; remove it from the body"))
    for lang in p.languages:
        if p.opt_out_line(lang).casefold() in body.casefold():
            problems.append(("opt_out_in_body", "the opt-out line is added by the system; remove it from the body"))
            break
    text_only = "".join(n.data for n in _walk(ast) if isinstance(n, nodes.TemplateData))
    if language == "en" and has_cjk(text_only):
        problems.append(("mixed_language", "an English template must not contain Chinese text"))
    if language == "zh-hans" and not has_cjk(text_only):
        problems.append(("mixed_language", "a Chinese template must be written in Chinese"))
    return problems


@dataclass(frozen=True)
class Rendered:
    """A composed message: ``text`` (signature + body + opt-out line), ``language`` and its
    :class:`~.segments.Segments`."""

    text: str
    language: str
    segments: segments.Segments
    variables: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=512)
def _compiled(body: str, declared: tuple[str, ...], language: str, p: Policy):
    """``(problems, compiled template)`` — checked and compiled once per body (templates are
    immutable versions, so the cache never serves a stale body)."""
    problems = check_body(body, list(declared), language, p)
    return tuple(problems), (None if problems else _ENV.from_string(body))


def compose(body_text: str, language: str, p: Policy) -> str:
    sep = "" if language == "zh-hans" else " "
    return f"{p.signature(language)}{body_text.strip()}{sep}{p.opt_out_line(language)}"


def render(body: str, declared: list[str], language: str, context: Mapping[str, str], p: Policy) -> Rendered:
    """Render ``body`` with the declared variables of ``context`` only and compose the message.
    Raises :class:`TemplateRefused` (form problems, a sandbox violation, a missing value, too long)."""
    problems, compiled = _compiled(body, tuple(declared), language, p)
    if problems:
        raise TemplateRefused(list(problems))
    values = {k: str(context[k]) for k in declared if k in context}
    missing = sorted(set(declared) - set(values))
    if missing:
        raise TemplateRefused([("missing_value", f"no value for {', '.join(missing)}")])
    try:
        out = compiled.render(**values)
    except SecurityError as exc:
        raise TemplateRefused([("sandbox", f"refused by the sandbox: {exc}")]) from None
    except UndefinedError as exc:
        raise TemplateRefused([("missing_value", str(exc))]) from None
    text = unicodedata.normalize("NFC", compose(out, language, p))
    seg = segments.count(text)
    if seg.parts > p.max_parts:
        raise TemplateRefused([("too_long", f"{seg.parts} parts (at most {p.max_parts})")])
    return Rendered(text, language, seg, values)
