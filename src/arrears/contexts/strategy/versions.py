"""Writes for strategy versions: upload (validated), activation (audited), the packaged default."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from arrears.contexts.audit import facade as audit
from arrears.rules.strategy_loader import STRATEGIES_DIR, parse_strategy

from .models import StrategyVersion

__all__ = ["upload_version", "activate", "ensure_packaged"]


def upload_version(source: str, user=None, note: str = "", source_name: str = "upload") -> StrategyVersion:
    """Validate ``source`` (YAML) and store it as a draft version.

    Raises ``RuleDataError`` listing every problem when it does not validate, and ``ValueError``
    when the same name and version already exist with different text (a changed strategy needs a
    new version). Uploading identical text again returns the existing version.
    """
    strategy = parse_strategy(source, source_name)
    sha = hashlib.sha256(source.encode("utf-8")).hexdigest()
    existing = StrategyVersion.objects.filter(name=strategy.name, version=strategy.version).first()
    if existing is not None:
        if existing.sha256 != sha:
            raise ValueError(f"{strategy.key} already exists with different content; change `version`")
        return existing
    sv = StrategyVersion.objects.create(
        name=strategy.name, version=strategy.version, source=source, sha256=sha, uploaded_by=user,
        uploaded_at=timezone.now(), note=note,
    )
    audit.record_audit_event("strategy.uploaded", actor=user, obj=sv, data={"key": sv.key, "sha256": sha})
    return sv


@transaction.atomic
def activate(sv: StrategyVersion, user=None, reason: str = "") -> StrategyVersion:
    """Make ``sv`` the active version of its strategy (the previous active one is retired) and
    write a ``strategy.activated`` audit event. The next daily run re-decides every case (the
    strategy version is part of each decision)."""
    sv = StrategyVersion.objects.select_for_update().get(pk=sv.pk)
    parse_strategy(sv.source, sv.key)  # never activate text that does not validate today
    previous = StrategyVersion.objects.filter(name=sv.name, status=StrategyVersion.Status.ACTIVE).exclude(pk=sv.pk)
    prev_keys = [p.key for p in previous]
    previous.update(status=StrategyVersion.Status.RETIRED)
    sv.status = StrategyVersion.Status.ACTIVE
    sv.activated_by, sv.activated_at = user, timezone.now()
    sv.save(update_fields=["status", "activated_by", "activated_at"])
    audit.record_audit_event("strategy.activated", actor=user, obj=sv, reason=reason,
                 data={"key": sv.key, "sha256": sv.sha256, "replaces": prev_keys})
    return sv


def ensure_packaged(name: str = "default") -> StrategyVersion:
    """Register ``rules/strategies/<name>.yaml`` and activate it when no version of ``name`` is active."""
    with transaction.atomic():
        active = StrategyVersion.objects.filter(name=name, status=StrategyVersion.Status.ACTIVE).first()
        if active is not None:
            return active
        source = (STRATEGIES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        sv = upload_version(source, note="packaged", source_name=f"rules/strategies/{name}.yaml")
        return activate(sv, reason="packaged default")
