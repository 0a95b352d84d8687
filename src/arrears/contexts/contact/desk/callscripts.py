"""Call scripts (话术) as versioned data: ``scripts/<stage>.yaml`` validated against
``scripts/script.schema.json``, placeholders checked per audience, every text screened.

At load (:func:`load_scripts`), every problem of a file is listed at once
(:class:`~arrears.domain.errors.RuleDataError`): schema violations, placeholders not declared for
the audience — a third-party script may use none of the debt details (CN-WHO-03: 不应透露债务人的
逾期欠款金额、欠款时间等欠款信息) — and any span :func:`arrears.domain.screening.screen` finds (for
third-party scripts with ``to_third_party=True``, which also flags debt words).

At render (:func:`render`) the case's values are filled in and the filled text is screened again;
a script that would say something prohibited is refused (:class:`ScriptRefused`, saying which
words and which rule, in the page's language), never shown.

How the bank is named (``{institution}``) and the number to call back (``{hotline}``) are the
bank's own facts (``arrears/rules/bank.yaml``, :func:`arrears.rules.bank.bank_facts`), the one
source the SMS templates and letters use too; a script file carries neither.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator
import json
import yaml

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.errors import RuleDataError
from arrears.domain.screening import screen
from arrears.rules.bank import bank_facts

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
SCHEMA = SCRIPTS_DIR / "script.schema.json"
LANGUAGES = ("zh-hans", "en")
AUDIENCES = ("debtor", "third_party")

#: placeholders a third-party script may use: no amount, no date, no DPD, no card (CN-WHO-03)
THIRD_PARTY_FIELDS = frozenset({"institution", "hotline", "agent_name", "agent_id", "customer_surname"})
#: placeholders a debtor script may use
DEBTOR_FIELDS = THIRD_PARTY_FIELDS | frozenset({
    "customer_title", "card_last4", "dpd", "overdue_amount", "amount_owed", "minimum_due", "oldest_due_date",
    "balance_explanation",
})
FIELDS = {"debtor": DEBTOR_FIELDS, "third_party": THIRD_PARTY_FIELDS}


#: the placeholders in words, for a refusal that names a missing value
FIELD_LABELS = {
    "institution": _("银行名称"), "hotline": _("客服电话"), "agent_name": _("催收员姓名"), "agent_id": _("工号"),
    "customer_surname": _("客户姓氏"), "customer_title": _("客户称谓"), "card_last4": _("卡号后四位"),
    "dpd": _("逾期天数"), "overdue_amount": _("逾期金额"), "amount_owed": _("欠款合计"),
    "minimum_due": _("最低还款额"), "oldest_due_date": _("最早未还到期日"), "balance_explanation": _("欠款说明"),
}


class ScriptRefused(ArrearsError, ValueError):
    """The filled script contains prohibited content (``matches``) or lacks a value (``missing``).
    Its message (both languages) names the words and rules, or the missing values."""

    code = ErrorCode.SCRIPT_REFUSED

    def __init__(self, message: str, matches: list | None = None, missing: list[str] | None = None) -> None:
        self.matches = matches or []
        self.missing = missing or []
        super().__init__(message, details={"missing": self.missing, "matches": [str(m) for m in self.matches]})
        if self.matches:
            words = "、".join(dict.fromkeys(f"“{m.text}”" for m in self.matches))
            rules = ", ".join(dict.fromkeys(m.rule_id for m in self.matches))
            words_en = ", ".join(dict.fromkeys(f"“{m.text}”" for m in self.matches))
            self._message = (f"话术填入信息后含有不得使用的内容：{words}（{rules}），因此不显示。",
                             f"Filled in, the script would say {words_en}, which it may not ({rules}); "
                             "it is not shown.")
        elif self.missing:
            from django.utils.translation import override

            def names(lang: str) -> str:
                with override(lang):
                    return ("、" if lang == "zh-hans" else ", ").join(str(FIELD_LABELS.get(m, m)) for m in self.missing)

            self._message = (f"话术缺少以下信息：{names('zh-hans')}，因此不显示。",
                             f"The script lacks {names('en')}; it is not shown.")


@dataclass(frozen=True)
class Section:
    title: str
    text: str


@dataclass(frozen=True)
class ScriptSet:
    """One stage's scripts: ``sections[(language, audience)]``."""

    stage: str
    version: str
    sections: dict[tuple[str, str], tuple[Section, ...]]
    source: str

    @property
    def key(self) -> str:
        return f"{self.stage}@{self.version}"


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _lang(language: str) -> str:
    return "en" if language.startswith("en") else "zh"


def parse_script_file(path: Path) -> ScriptSet:
    """Load and check one script file; raises :class:`RuleDataError` listing every problem."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleDataError(source, [f"cannot read the file: {exc}"]) from exc
    validator = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    errors = [f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
              for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])]
    if errors:
        raise RuleDataError(source, errors)
    sections: dict[tuple[str, str], tuple[Section, ...]] = {}
    for language in LANGUAGES:
        for audience in AUDIENCES:
            rows = data["scripts"][language][audience]
            for i, row in enumerate(rows):
                where = f"scripts.{language}.{audience}[{i}]"
                try:
                    names = _placeholders(row["text"])
                except ValueError as exc:
                    errors.append(f"{where}.text: {exc}")
                    continue
                bad = sorted({n for n in names if n not in FIELDS[audience]})
                if bad:
                    errors.append(f"{where}.text: placeholder(s) {bad} not allowed for the {audience} audience")
                for m in screen(row["text"], to_third_party=audience == "third_party", lang=_lang(language)):
                    errors.append(f"{where}.text: prohibited content {m.text!r} ({m.rule_id}, {m.category})")
            sections[(language, audience)] = tuple(Section(r["title"], r["text"]) for r in rows)
    if errors:
        raise RuleDataError(source, errors)
    return ScriptSet(data["stage"], data["version"], sections, source)


@lru_cache(maxsize=4)
def load_scripts(directory: str | None = None) -> dict[str, ScriptSet]:
    """Every ``*.yaml`` of the scripts directory by stage (must include ``default``)."""
    root = Path(directory) if directory else SCRIPTS_DIR
    out: dict[str, ScriptSet] = {}
    for path in sorted(root.glob("*.yaml")):
        s = parse_script_file(path)
        if s.stage in out:
            raise RuleDataError(str(path), [f"stage {s.stage!r} already defined in {out[s.stage].source}"])
        out[s.stage] = s
    if "default" not in out:
        raise RuleDataError(str(root), ["no script for the 'default' stage"])
    return out


@dataclass(frozen=True)
class RenderedScript:
    stage: str
    version: str
    language: str
    audience: str
    sections: list[Section]

    @property
    def key(self) -> str:
        return f"{self.stage}@{self.version}"


def script_for(stage: str, directory: str | None = None) -> ScriptSet:
    scripts = load_scripts(directory)
    return scripts.get(stage or "default") or scripts["default"]


def render(stage: str, language: str, audience: str, values: dict[str, str], directory: str | None = None
           ) -> RenderedScript:
    """The script of ``stage`` (else ``default``) in ``language`` (``zh-hans``/``en``; other
    languages fall back to Chinese) for ``audience`` with ``values`` filled in. The filled text is
    screened; raises :class:`ScriptRefused` on prohibited content or a missing value."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    language = "en" if language.startswith("en") else "zh-hans"
    s = script_for(stage, directory)
    bank = bank_facts()  # the bank's own facts: one source for scripts, SMS and letters
    shown = {**values, "institution": bank.card_centre_in(language), "hotline": bank.hotline}
    out: list[Section] = []
    for sec in s.sections[(language, audience)]:
        names = _placeholders(sec.text)
        missing = sorted({n for n in names if shown.get(n) in (None, "")})
        if missing:
            raise ScriptRefused(f"script {s.key}: no value for {missing}", missing=missing)
        text = sec.text.format(**{n: shown[n] for n in set(names)})
        found = screen(text, to_third_party=audience == "third_party", lang=_lang(language))
        if found:
            raise ScriptRefused(f"script {s.key}: prohibited content after filling in the values", matches=found)
        out.append(Section(sec.title, text))
    return RenderedScript(s.stage, s.version, language, audience, out)
