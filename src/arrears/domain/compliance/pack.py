"""Rule packs: versioned compliance rules as data, with layering and institution overlays.

A pack (``arrears/rules/compliance/cn.yaml``, ``us_regf.yaml``) lists rules. Each rule has an id
(the RULES.md id), a ``layer`` (law, regulation, standard, self_regulation, policy), a
``severity`` (block, soft_block, flag), ``parameters``, citations (original-language text and
source) and a verification label. This module builds a :class:`RulePack` from the parsed data —
pure, no I/O; the YAML loader is :func:`arrears.rules.compliance_packs.load_compliance_pack`.

**Layering — the strictest wins.** A parameter has its rule's value plus, optionally, values set
by other layers (``also``), e.g. quiet hours 22:00 from the CBA guideline *and* from the GB/T
standard. Each parameter declares which direction is stricter (``stricter``): ``lower`` (caps),
``higher`` (retention periods, minimum staff), ``earlier`` / ``later`` (time of day, ``"HH:MM"``),
``true`` / ``false`` (booleans), ``superset`` (lists where more is stricter, e.g. covered
channels), ``subset`` (lists where fewer is stricter, e.g. permitted purposes) or ``none``
(not ordered: all layers must agree). The effective value is the strictest of all.

**Overlays — tighten, never loosen.** An institution overlay (``policy`` layer) may tighten any
value (quiet hours from 21:00, lower caps), enable a disabled rule or raise a severity. It may not
loosen a value set by a *protected* layer (the pack's ``protected_layers``: law and regulation
always), disable a protected rule or lower its severity. ``configurable`` parameters — values the
catalogue marks UNCERTAIN — are defaults the institution may set either way. Policy-layer values
are the institution's own and may be replaced. Every problem is collected and raised at once as
:class:`~arrears.domain.errors.RuleDataError`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import RuleDataError
from .model import LAYERS, SEVERITIES

__all__ = ["STRICTNESS", "Citation", "ParamEntry", "Param", "Rule", "RulePack", "build_pack", "apply_overlay",
           "strictest", "at_least_as_strict"]

STRICTNESS: tuple[str, ...] = ("lower", "higher", "earlier", "later", "true", "false", "superset", "subset", "none")
ALWAYS_PROTECTED = ("law", "regulation")
_OVERLAY = "overlay:"
_SEVERITY_RANK = {"flag": 0, "soft_block": 1, "block": 2}
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def hhmm_seconds(value: str) -> int:
    """``"22:00"`` → 79200 (seconds after local midnight); ``"HH:MM:SS"`` allowed."""
    m = _HHMM.match(value)
    if not m:
        raise ValueError(f"not a time of day HH:MM: {value!r}")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _type_problem(stricter: str, value: Any) -> str | None:
    """Why ``value`` cannot be ordered by ``stricter`` (``None`` if it can)."""
    if stricter in ("lower", "higher"):
        return None if _is_num(value) else f"must be a number for stricter={stricter}, got {value!r}"
    if stricter in ("earlier", "later"):
        return None if isinstance(value, str) and _HHMM.match(value) else f"must be a time \"HH:MM\" for stricter={stricter}, got {value!r}"
    if stricter in ("true", "false"):
        return None if isinstance(value, bool) else f"must be true or false for stricter={stricter}, got {value!r}"
    if stricter in ("superset", "subset"):
        return None if isinstance(value, list) else f"must be a list for stricter={stricter}, got {value!r}"
    return None


def _key(stricter: str, value: Any) -> Any:
    """Sort key: smaller = stricter (for the totally ordered kinds)."""
    if stricter == "lower":
        return value
    if stricter == "higher":
        return -value
    if stricter == "earlier":
        return hhmm_seconds(value)
    if stricter == "later":
        return -hhmm_seconds(value)
    if stricter == "true":
        return 0 if value else 1
    if stricter == "false":
        return 0 if not value else 1
    raise ValueError(stricter)


def _hashable(v: Any) -> Any:
    return tuple(sorted(v.items())) if isinstance(v, dict) else v


def at_least_as_strict(stricter: str, a: Any, b: Any) -> bool:
    """True if value ``a`` is at least as strict as ``b`` under ``stricter``."""
    if stricter in ("superset", "subset"):
        sa, sb = {_hashable(x) for x in a}, {_hashable(x) for x in b}
        return sa >= sb if stricter == "superset" else sa <= sb
    if stricter == "none":
        return a == b
    return _key(stricter, a) <= _key(stricter, b)


def strictest(stricter: str, values: list[Any]) -> Any:
    """The strictest of ``values`` (union for ``superset``, intersection for ``subset``; for
    ``none`` the first — callers check that all agree)."""
    if not values:
        raise ValueError("strictest() of no values")
    if stricter == "superset":
        out: list[Any] = []
        for v in values:
            for x in v:
                if x not in out:
                    out.append(x)
        return out
    if stricter == "subset":
        out = list(values[0])
        for v in values[1:]:
            out = [x for x in out if x in v]
        return out
    if stricter == "none":
        return values[0]
    return min(values, key=lambda v: _key(stricter, v))


@dataclass(frozen=True, slots=True)
class Citation:
    """Original-language ``text`` and its ``source`` (document, article), with URLs, the layer of
    the source and its verification label."""

    text: str
    source: str
    url: tuple[str, ...] = ()
    layer: str | None = None
    verification: str | None = None

    def short(self) -> str:
        return f"{self.source}: \u201c{self.text}\u201d"


@dataclass(frozen=True, slots=True)
class ParamEntry:
    """One layer's setting of a parameter."""

    layer: str
    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter: its settings by layer, strictness direction, whether it is a configurable
    default (UNCERTAIN in the catalogue), and the effective (strictest) value."""

    name: str
    stricter: str
    entries: tuple[ParamEntry, ...]
    value: Any
    configurable: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    """One rule of a pack. ``params`` maps parameter name → effective value."""

    id: str
    title_zh: str
    title_en: str
    layer: str
    severity: str
    verification: str
    enabled: bool
    params: Mapping[str, Any]
    param_specs: Mapping[str, Param]
    citations: tuple[Citation, ...]
    enforced_by: tuple[str, ...]
    status: str | None = None
    note: str | None = None

    @property
    def citation(self) -> str:
        """The first citation as ``source: “text”`` (for reasons)."""
        return self.citations[0].short() if self.citations else ""


@dataclass(frozen=True)
class RulePack:
    """A validated rule pack. :meth:`has` (present and enabled), :meth:`p` (a parameter),
    :attr:`version_label` (recorded on every decision: ``"cn@2026.11"``, with overlays
    ``"cn@2026.11+bank-a@3"``)."""

    name: str
    version: str
    jurisdiction: str
    title: str
    default_timezone: str | None
    protected_layers: tuple[str, ...]
    applies_to_institution_roles: tuple[str, ...] | None
    rules: Mapping[str, Rule]
    overlays: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @property
    def version_label(self) -> str:
        return "+".join((f"{self.name}@{self.version}", *self.overlays))

    def has(self, rule_id: str) -> bool:
        """The pack contains ``rule_id`` and it is enabled."""
        try:
            enabled = self._cache["__enabled__"]
        except KeyError:
            enabled = self._cache["__enabled__"] = frozenset(rid for rid, r in self.rules.items() if r.enabled)
        return rule_id in enabled

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def p(self, rule_id: str, name: str, default: Any = None) -> Any:
        r = self.rules.get(rule_id)
        if r is None:
            return default
        return r.params.get(name, default)

    def cached(self, key: Any, factory: Callable[[], Any]) -> Any:
        """Memoise a value derived from this pack (compiled patterns, seconds of a time …)."""
        try:
            return self._cache[key]
        except KeyError:
            v = self._cache[key] = factory()
            return v

    def to_overlay_view(self) -> dict[str, dict[str, Any]]:
        """``{rule_id: {param: effective value}}`` — what an overlay author sees."""
        return {rid: dict(r.params) for rid, r in self.rules.items()}


# ---- building --------------------------------------------------------------------------------
def _param_from_data(rule_id: str, rule_layer: str, name: str, raw: Any, errors: list[str],
                     default_source: str = "rule") -> Param | None:
    where = f"rule {rule_id}: parameter {name!r}"
    if not isinstance(raw, Mapping) or "value" not in raw or "stricter" not in raw:
        errors.append(f"{where}: must be a mapping with 'value' and 'stricter'")
        return None
    stricter = raw["stricter"]
    if stricter not in STRICTNESS:
        errors.append(f"{where}: stricter must be one of {', '.join(STRICTNESS)}, got {stricter!r}")
        return None
    layer = raw.get("layer", rule_layer)
    entries = [ParamEntry(layer, raw["value"], raw.get("source", default_source))]
    for i, a in enumerate(raw.get("also") or []):
        if not isinstance(a, Mapping) or "value" not in a or "layer" not in a:
            errors.append(f"{where}: also[{i}] must have 'layer' and 'value'")
            continue
        if a["layer"] not in LAYERS:
            errors.append(f"{where}: also[{i}].layer must be one of {', '.join(LAYERS)}, got {a['layer']!r}")
            continue
        entries.append(ParamEntry(a["layer"], a["value"], str(a.get("source", ""))))
    ok = True
    for e in entries:
        problem = _type_problem(stricter, e.value)
        if problem:
            errors.append(f"{where} ({e.layer}): {problem}")
            ok = False
    if not ok:
        return None
    if stricter == "none" and len({repr(e.value) for e in entries}) > 1:
        errors.append(f"{where}: layers disagree on an unordered parameter (stricter: none): "
                      + ", ".join(f"{e.layer}={e.value!r}" for e in entries))
        return None
    value = strictest(stricter, [e.value for e in entries])
    return Param(name, stricter, tuple(entries), value, bool(raw.get("configurable", False)), raw.get("note"))


def _citations(rule_id: str, raw: Any, errors: list[str]) -> tuple[Citation, ...]:
    out = []
    for i, c in enumerate(raw or []):
        if not isinstance(c, Mapping) or not c.get("text") or not c.get("source"):
            errors.append(f"rule {rule_id}: citations[{i}] needs 'text' (original language) and 'source'")
            continue
        url = c.get("url") or ()
        out.append(Citation(str(c["text"]), str(c["source"]), tuple([url] if isinstance(url, str) else url),
                            c.get("layer"), c.get("verification")))
    return tuple(out)


def _title(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        return str(raw.get("zh", "")), str(raw.get("en", ""))
    return str(raw or ""), str(raw or "")


def _rule_from_data(raw: Mapping[str, Any], errors: list[str]) -> Rule | None:
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        errors.append(f"a rule has no id: {dict(raw)!r:.80}")
        return None
    layer = raw.get("layer")
    severity = raw.get("severity")
    bad = False
    if layer not in LAYERS:
        errors.append(f"rule {rid}: layer must be one of {', '.join(LAYERS)}, got {layer!r}")
        bad = True
    if severity not in SEVERITIES:
        errors.append(f"rule {rid}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        bad = True
    cites = _citations(rid, raw.get("citations"), errors)
    params: dict[str, Param] = {}
    for name, p in (raw.get("parameters") or {}).items():
        param = _param_from_data(rid, layer if layer in LAYERS else "policy", name, p, errors,
                                 cites[0].source if cites else "rule")
        if param is not None:
            params[name] = param
    if not cites:
        errors.append(f"rule {rid}: at least one citation (original text and source) is required")
    if bad:
        return None
    zh, en = _title(raw.get("title"))
    return Rule(
        id=rid, title_zh=zh, title_en=en, layer=layer, severity=severity,
        verification=str(raw.get("verification", "")), enabled=bool(raw.get("enabled", True)),
        params=MappingProxyType({k: v.value for k, v in params.items()}),
        param_specs=MappingProxyType(params), citations=cites,
        enforced_by=tuple(raw.get("enforced_by") or ()), status=raw.get("status"), note=raw.get("note"),
    )


def build_pack(data: Mapping[str, Any], source: str = "rule pack") -> RulePack:
    """Build and check a pack from its parsed data (the YAML shape). Raises
    :class:`RuleDataError` listing every problem (duplicate ids, bad layers/severities, parameters
    whose layers disagree or whose values do not fit their strictness kind, missing citations)."""
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise RuleDataError(source, ["a rule pack must be a mapping"])
    rules: dict[str, Rule] = {}
    for raw in data.get("rules") or []:
        if not isinstance(raw, Mapping):
            errors.append(f"rule entries must be mappings, got {raw!r:.60}")
            continue
        rule = _rule_from_data(raw, errors)
        if rule is None:
            continue
        if rule.id in rules:
            errors.append(f"rule id {rule.id} is listed more than once")
            continue
        rules[rule.id] = rule
    if not rules and not errors:
        errors.append("the pack has no rules")
    protected = tuple(dict.fromkeys((*ALWAYS_PROTECTED, *(data.get("protected_layers") or ()))))
    for layer in protected:
        if layer not in LAYERS:
            errors.append(f"protected_layers: unknown layer {layer!r}")
    for key in ("name", "version", "jurisdiction"):
        if not isinstance(data.get(key), str) or not data.get(key):
            errors.append(f"{key} must be a non-empty string")
    if errors:
        raise RuleDataError(source, errors)
    roles = data.get("applies_to_institution_roles")
    return RulePack(
        name=data["name"], version=data["version"], jurisdiction=data["jurisdiction"],
        title=str(data.get("title", data["name"])), default_timezone=data.get("default_timezone"),
        protected_layers=protected, applies_to_institution_roles=tuple(roles) if roles else None,
        rules=MappingProxyType(rules),
    )


# ---- overlays --------------------------------------------------------------------------------
def _rebuild_rule(rule: Rule, **changes: Any) -> Rule:
    fields = {f: getattr(rule, f) for f in Rule.__dataclass_fields__}
    fields.update(changes)
    return Rule(**fields)


def apply_overlay(pack: RulePack, overlay: Mapping[str, Any], source: str = "overlay") -> RulePack:
    """Apply an institution overlay (layer ``policy``) and return the tightened pack.

    Overlay shape: ``{name, version, rules: {RULE-ID: {enabled?, severity?, parameters?: {name:
    value}}}}``. Refuses — with every problem listed in one :class:`RuleDataError` — unknown rules
    or parameters, values of the wrong kind, and anything that would loosen a protected layer's
    value, disable a protected rule or lower its severity.
    """
    errors: list[str] = []
    if not isinstance(overlay, Mapping):
        raise RuleDataError(source, ["an overlay must be a mapping"])
    name, version = overlay.get("name"), overlay.get("version")
    if not isinstance(name, str) or not name:
        errors.append("name must be a non-empty string")
    if not isinstance(version, str) or not version:
        errors.append("version must be a non-empty string (quote it in YAML)")
    protected = set(pack.protected_layers)
    new_rules = dict(pack.rules)
    for rid, change in (overlay.get("rules") or {}).items():
        rule = pack.rules.get(rid)
        if rule is None:
            errors.append(f"rule {rid}: not in pack {pack.name} (known: {len(pack.rules)} rules)")
            continue
        if not isinstance(change, Mapping):
            errors.append(f"rule {rid}: the change must be a mapping")
            continue
        rule_protected = rule.layer in protected
        updates: dict[str, Any] = {}
        if "enabled" in change:
            en = change["enabled"]
            if not isinstance(en, bool):
                errors.append(f"rule {rid}: enabled must be true or false")
            elif not en and rule.enabled and rule_protected:
                errors.append(f"rule {rid}: cannot disable a {rule.layer}-level rule (an overlay may only tighten)")
            else:
                updates["enabled"] = en
        if "severity" in change:
            sev = change["severity"]
            if sev not in SEVERITIES:
                errors.append(f"rule {rid}: severity must be one of {', '.join(SEVERITIES)}, got {sev!r}")
            elif rule_protected and _SEVERITY_RANK[sev] < _SEVERITY_RANK[rule.severity]:
                errors.append(f"rule {rid}: cannot lower the severity of a {rule.layer}-level rule "
                              f"from {rule.severity} to {sev}")
            else:
                updates["severity"] = sev
        params = dict(rule.param_specs)
        for pname, value in (change.get("parameters") or {}).items():
            spec = params.get(pname)
            if spec is None:
                errors.append(f"rule {rid}: unknown parameter {pname!r} (has: {', '.join(params) or 'none'})")
                continue
            problem = _type_problem(spec.stricter, value)
            if problem:
                errors.append(f"rule {rid}: parameter {pname!r} {problem}")
                continue
            tag = f"{_OVERLAY}{name}"
            if spec.configurable:
                params[pname] = Param(pname, spec.stricter, (*spec.entries, ParamEntry("policy", value, tag)),
                                      value, True, spec.note)
                continue
            # protected: the pack's protected layers, and what an earlier overlay already tightened
            guard = [e for e in spec.entries if e.layer in protected or e.source.startswith(_OVERLAY)]
            looser = [e for e in guard if not at_least_as_strict(spec.stricter, value, e.value)]
            if looser:
                for e in looser:
                    verb = "change" if spec.stricter == "none" else "loosen"
                    errors.append(f"rule {rid}: parameter {pname!r}: {value!r} would {verb} the {e.layer}-level "
                                  f"value {e.value!r} ({e.source}); an overlay may only tighten "
                                  f"(stricter = {spec.stricter})")
                continue
            entries = (*guard, ParamEntry("policy", value, tag))
            eff = strictest(spec.stricter, [e.value for e in entries]) if spec.stricter != "none" else value
            params[pname] = Param(pname, spec.stricter, entries, eff, False, spec.note)
        if params != dict(rule.param_specs):
            updates["param_specs"] = MappingProxyType(params)
            updates["params"] = MappingProxyType({k: v.value for k, v in params.items()})
        if updates:
            new_rules[rid] = _rebuild_rule(rule, **updates)
    if errors:
        raise RuleDataError(source, errors)
    return RulePack(
        name=pack.name, version=pack.version, jurisdiction=pack.jurisdiction, title=pack.title,
        default_timezone=pack.default_timezone, protected_layers=pack.protected_layers,
        applies_to_institution_roles=pack.applies_to_institution_roles, rules=MappingProxyType(new_rules),
        overlays=(*pack.overlays, f"{name}@{version}"),
    )
