"""The audit log: who did what to which object, when, why and from where.

Append-only. Rows are written only by :func:`arrears.contexts.audit.services.record`; the database
refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of this table with triggers (migration
``0001_initial``, SQL in :mod:`arrears.contexts.audit.dbguard`), and the model refuses ``save()`` on an
existing row and ``delete()``. Each row carries the hash of the previous one
(:mod:`arrears.contexts.audit.chain`); ``arrears audit_verify`` checks the chain.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import chain

from arrears.core.errors import ArrearsError, ErrorCode


class AppendOnlyError(ArrearsError, RuntimeError):
    """An attempt to change or remove an audit event."""

    code = ErrorCode.APPEND_ONLY


class AuditEvent(models.Model):
    #: Dense (1, 2, 3, …), assigned under the append lock: a missing id is a removed row.
    id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("操作人"),
    )
    #: The actor's username when the event was written ("anonymous" / "system" without a user).
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=512, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("审计事件")
        verbose_name_plural = pgettext_lazy("plural", "审计事件")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    def compute_hash(self) -> str:
        return chain.event_hash(
            id=self.id, at=self.at, actor_id=self.actor_id, actor_label=self.actor_label, action=self.action,
            object_type=self.object_type, object_id=self.object_id, reason=self.reason, ip=self.ip,
            user_agent=self.user_agent, data=self.data, prev_hash=self.prev_hash,
        )

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only: an existing event cannot be changed")
        if not self.hash or self.hash != self.compute_hash():
            raise AppendOnlyError("audit events are written by arrears.contexts.audit.services.record() only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only: an event cannot be deleted")
