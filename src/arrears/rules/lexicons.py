"""Loaders of the content-screening lexicons (``screening/<lang>.yaml`` and their word lists).

``load_screening_lexicon(path)`` validates the YAML against ``schemas/screening.schema.json``
collecting every error, reads the word lists it names (beside the YAML file), compiles the patterns
(:func:`arrears.domain.screening.compile_lexicon`, which checks every regex) and raises one
:class:`~arrears.domain.errors.RuleDataError` listing all problems. ``screening_lexicon(lang)``
returns the packaged lexicon, read once per process.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from arrears.domain.errors import RuleDataError
from arrears.domain.screening import Lexicon, compile_lexicon, register_lexicon_provider
from arrears.rules import RULES_DIR, load_rule_file

__all__ = ["SCREENING_DIR", "read_word_list", "load_screening_lexicon", "screening_lexicon"]

SCREENING_DIR = RULES_DIR / "screening"


def read_word_list(path: str | Path) -> list[str]:
    """Terms of a word list: one a line, stripped; blank lines and ``#`` comment lines skipped."""
    terms: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        term = line.strip()
        if term and not term.startswith("#") and term not in terms:
            terms.append(term)
    return terms


def load_screening_lexicon(path: str | Path, *, prefilter: bool = True) -> Lexicon:
    """Load, validate and compile one screening rule file; raise ``RuleDataError`` with every error.
    ``prefilter``: see :func:`arrears.domain.screening.compile_lexicon`."""
    path = Path(path)
    data, errors = load_rule_file(path, "screening.schema.json")
    if not isinstance(data, dict):
        raise RuleDataError(str(path), errors or ["the file does not describe screening rules"])
    spec: dict[str, Any] = dict(data)
    wordlists = []
    for i, raw in enumerate(spec.get("wordlists") or ()):
        if not isinstance(raw, dict):
            continue  # the schema reported it
        raw = dict(raw)
        name = raw.get("file")
        if isinstance(name, str):
            try:
                raw["terms"] = read_word_list(path.parent / name)
            except OSError as exc:
                errors.append(f"wordlists[{i}].file: cannot read {name}: {exc.strerror or exc}")
                raw["terms"] = []
        wordlists.append(raw)
    spec["wordlists"] = wordlists
    if errors:
        # Still compile what is there, so that regex problems are reported in the same pass.
        try:
            compile_lexicon(_well_formed(spec))
        except RuleDataError as exc:
            errors.extend(e for e in exc.errors if e not in errors)
        except Exception:  # noqa: BLE001 - malformed beyond what the compiler can report
            pass
        raise RuleDataError(str(path), errors)
    try:
        return compile_lexicon(spec, prefilter=prefilter)
    except RuleDataError as exc:
        raise RuleDataError(str(path), exc.errors) from None


def _well_formed(spec: dict[str, Any]) -> dict[str, Any]:
    """Keep only the parts of an invalid spec that the compiler can read."""
    out = dict(spec)
    for key in ("rules", "wordlists"):
        items = spec.get(key) if isinstance(spec.get(key), list) else []
        out[key] = [
            {**r, "patterns": [p for p in r.get("patterns") or () if isinstance(p, str)]}
            for r in items
            if isinstance(r, dict) and isinstance(r.get("patterns", []), list)
        ]
    if not isinstance(out.get("negation"), str):
        out.pop("negation", None)
    if not isinstance(out.get("allow"), list):
        out.pop("allow", None)
    return out


@lru_cache(maxsize=None)
def screening_lexicon(lang: str = "zh") -> Lexicon:
    """The packaged lexicon for ``lang`` (``"zh"`` or ``"en"``), loaded once per process."""
    path = SCREENING_DIR / f"{lang}.yaml"
    if not path.is_file():
        raise ValueError(f"no screening rules for language {lang!r} (have: zh, en)")
    return load_screening_lexicon(path)


register_lexicon_provider(screening_lexicon)
