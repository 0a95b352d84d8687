"""The bank's own facts (``rules/bank.yaml``): its name, how collectors name it on the phone, the
hotline and the repayment channels — one source for call scripts, SMS and letters.

:func:`bank_facts` is what the code reads (loaded once per process); :func:`load_bank_facts`
reads and validates any file (schema ``schemas/bank.schema.json``; every problem listed in one
:class:`~arrears.domain.errors.RuleDataError`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from arrears.domain.errors import RuleDataError

from . import RULES_DIR, load_rule_file

BANK_FILE = RULES_DIR / "bank.yaml"
LANGUAGES = ("zh-hans", "en")


def _lang(language: str) -> str:
    return "en" if (language or "").lower().startswith("en") else "zh-hans"


@dataclass(frozen=True)
class BankFacts:
    """The bank's facts; each text in Chinese (``zh-hans``) and English (``en``)."""

    version: str
    name: dict[str, str]
    card_centre: dict[str, str]
    hotline: str
    repayment_channels: tuple[dict[str, str], ...]
    source: str = ""

    def name_in(self, language: str) -> str:
        return self.name[_lang(language)]

    def card_centre_in(self, language: str) -> str:
        return self.card_centre[_lang(language)]

    def signature(self, language: str) -> str:
        """The SMS signature every message starts with: ``【深圳示例银行】`` / ``【Shenzhen Example Bank】``."""
        return f"【{self.name_in(language)}】"

    def repayment_channels_in(self, language: str) -> list[str]:
        return [c[_lang(language)] for c in self.repayment_channels]


def load_bank_facts(path: str | Path = BANK_FILE) -> BankFacts:
    """Read and validate a bank-facts file; :class:`RuleDataError` lists every problem."""
    data, errors = load_rule_file(path, "bank.schema.json")
    if errors:
        raise RuleDataError(str(path), errors)
    return BankFacts(str(data["version"]), dict(data["name"]), dict(data["card_centre"]), data["hotline"],
                     tuple(dict(c) for c in data["repayment_channels"]), str(path))


@lru_cache(maxsize=1)
def bank_facts() -> BankFacts:
    """The packaged bank facts, read once per process."""
    return load_bank_facts()
