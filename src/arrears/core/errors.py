"""One error model for the whole system.

Every refusal the system raises on purpose is an :class:`ArrearsError`: a stable ``code`` (a member
of :class:`ErrorCode`, the one registry of codes), a message in Chinese and English, the offending
input (``field``) and JSON-able ``details``. The HTTP status follows from the code. The JSON API
answers every error as ``{"code", "message", "field", "details"}`` (:mod:`arrears.core.api`), the
pages show the same message through one template partial (:mod:`arrears.core.pages`).

Pure Python: no Django import at module level, so the domain core may subclass it. A lazily
translated Django string is rendered only when a message is asked for.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

__all__ = ["ErrorCode", "ArrearsError", "normalize_language", "jsonable", "log_unexpected"]

log = logging.getLogger("arrears.errors")


class ErrorCode(StrEnum):
    """The registry of error codes: ``value`` (stable snake-case identifier, what clients match on),
    ``status`` (HTTP) and the default message in Chinese and English (``message_zh``,
    ``message_en``), shown when the raise site gives none of its own.

    A member compares equal to its string (``ErrorCode.CALL_OPEN == "call_open"``), so code written
    against the earlier string codes keeps working.
    """

    def __new__(cls, value: str, status: int, message_zh: str, message_en: str) -> ErrorCode:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.status = status
        obj.message_zh = message_zh
        obj.message_en = message_en
        return obj

    # ---- general (any area; DRF's and Django's own errors map here) -----------------------------------
    INVALID_INPUT = ("invalid_input", 400, "输入有误，请检查。", "The input is not valid; please check it.")
    MALFORMED_REQUEST = ("malformed_request", 400, "请求格式有误，无法读取。", "The request could not be read.")
    FORBIDDEN = ("forbidden", 403, "您无权执行此操作。", "You are not allowed to do this.")
    NOT_FOUND = ("not_found", 404, "要找的对象不存在，或不在您的数据范围内。",
                 "It does not exist or is outside your data scope.")
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, "这里不支持这种请求方式。",
                          "This request method is not allowed here.")
    NOT_ACCEPTABLE = ("not_acceptable", 406, "无法提供所要求的格式。", "The requested format cannot be provided.")
    CONFLICT = ("conflict", 409, "操作与当前状态冲突，请刷新后重试。",
                "This conflicts with the current state; refresh and try again.")
    UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", 415, "不支持该内容格式。", "This content type is not supported.")
    THROTTLED = ("throttled", 429, "请求过于频繁，请稍后再试。", "Too many requests; please try again later.")
    SERVER_ERROR = ("server_error", 500, "系统出错，操作未完成。", "A system error stopped the action.")

    # ---- state and transitions --------------------------------------------------------------------
    ILLEGAL_TRANSITION = ("illegal_transition", 409, "当前状态不允许此操作。", "The current status does not allow this.")
    STALE_CASE = ("stale_case", 409, "案件状态已被他人更改，请刷新后重试。",
                  "The case changed meanwhile; refresh and try again.")
    CASE_CLOSED = ("case_closed", 409, "案件已结案。", "The case is closed.")
    INVALID_EVENT = ("invalid_event", 400, "案件事件的类型或内容无效。", "The case event's kind or content is not valid.")
    RULE_DATA_INVALID = ("rule_data_invalid", 400, "规则数据有误，请查看问题列表。",
                         "The rule data is not valid; see the list of problems.")

    # ---- cases, data scope, reveal -----------------------------------------------------------------
    INVALID_CURSOR = ("invalid_cursor", 400, "翻页位置无效，请从第一页开始。",
                      "The page position is not valid; start from the first page.")
    NOT_ALLOWED = ("not_allowed", 403, "您的角色不能执行此操作。", "Your role may not do this.")
    READ_ONLY = ("read_only", 403, "您的角色只能查看，不能修改。", "Your role may look but not change anything.")
    REASON_REQUIRED = ("reason_required", 400, "请填写原因。", "Please give a reason.")
    BAD_NOTE = ("bad_note", 400, "请填写备注，最多 2000 字。", "Write a note of at most 2,000 characters.")
    RATE_LIMITED = ("rate_limited", 403, "查看次数已达上限，请稍后再试。",
                    "You have reached the limit of reveals; try again later.")

    # ---- compliance gate -----------------------------------------------------------------------------
    CONTACT_REFUSED = ("contact_refused", 409, "合规规则现在不允许这次联系。",
                       "The compliance rules do not allow this contact now.")
    DIAL_REFUSED = ("dial_refused", 403, "合规规则或号码状态不允许拨打这个号码。",
                    "The compliance rules or the number's status do not allow this call.")

    # ---- phone desk --------------------------------------------------------------------------------
    NOT_AN_AGENT = ("not_an_agent", 403, "只有催收员和组长可以从队列领取案件。",
                    "Only collectors and team leaders take cases from the queue.")
    CALL_OPEN = ("call_open", 409, "请先登记当前通话的结果。", "Record the outcome of your current call first.")
    HELD_BY_OTHER = ("held_by_other", 409, "该案件正由其他催收员处理。", "Another collector is working this case.")
    NOT_CLAIMED = ("not_claimed", 400, "您没有领取这个案件。", "You do not hold this case.")
    STALE_CALL = ("stale_call", 409, "通话状态已经改变，请刷新后重试。", "The call changed meanwhile; refresh and try again.")
    CALL_CLOSED = ("call_closed", 400, "这个通话已经登记过结果。", "This call already has its outcome.")
    BAD_CALL = ("bad_call", 400, "没有这个通话。", "There is no such call.")
    BAD_CONTACT = ("bad_contact", 400, "这不是本案件的电话号码。", "This is not a phone number of this case.")
    BAD_STATUS = ("bad_status", 400, "号码状态无效。", "Unknown number status.")
    BAD_PURPOSE = ("bad_purpose", 400, "联系第三人只能询问债务人联系方式或请其转告。",
                   "A third party may only be asked for the debtor's contact details or to pass on a message.")
    BAD_NOTES = ("bad_notes", 400, "备注最多 4000 字。", "Notes are limited to 4000 characters.")
    BAD_RECORDING = ("bad_recording", 400, "录音时长无效。", "The recording length is not valid.")
    RECORDING_REQUIRED = ("recording_required", 400, "该通话没有拨号系统生成的录音编号，不能登记有通话的结果（CN-REC-01）。",
                          "The dialer issued no recording reference for this call; an outcome with a conversation "
                          "cannot be recorded (CN-REC-01).")
    BAD_PROMISE = ("bad_promise", 400, "承诺还款的金额或日期无效。", "The promised amount or date is not valid.")
    BAD_CALLBACK = ("bad_callback", 400, "请填写14天内的约定回电时间。", "Give a callback time within the next 14 days.")
    CALLBACK_NOT_ALLOWED = ("callback_not_allowed", 400, "合规规则不允许在该时间致电。",
                            "The compliance rules do not allow a call at that time.")
    BAD_AGENT = ("bad_agent", 400, "只能改派给您所带团队的在岗催收员。",
                 "You can reassign only to an active collector of a team you lead.")
    INVALID_CODE = ("invalid_code", 400, "行动码或结果码无效。", "The action or result code is not valid.")
    SCRIPT_REFUSED = ("script_refused", 409, "话术填入信息后未通过内容检查。",
                      "The call script failed the content check after filling in its values.")

    # ---- SMS ---------------------------------------------------------------------------------------
    DUPLICATE_TODAY = ("duplicate_today", 409, "今天已为该案件发送过这个模板。",
                       "This template was already sent for this case today.")
    INTERVAL = ("interval", 409, "该模板距上次发送未满最短间隔。",
                "The minimum interval since this template was last sent has not passed.")
    NO_TEMPLATE = ("no_template", 409, "该模板没有启用的版本。", "This template has no active version.")
    TASK_CLOSED = ("task_closed", 409, "该任务已经处理完毕。", "This task is already done.")
    TEMPLATE_REFUSED = ("template_refused", 400, "模板未通过检查，请查看问题列表。",
                        "The template failed the checks; see the list of problems.")
    GATEWAY_ERROR = ("gateway_error", 502, "短信网关未能发送。", "The SMS gateway did not take the message.")

    # ---- field visits ------------------------------------------------------------------------------
    WINDOW_CLOSED = ("window_closed", 409, "允许外访的时段内已没有可用时间。",
                     "No time is left inside the allowed visiting hours.")
    DAY_PAST = ("day_past", 400, "外访日期不能早于今天。", "The visit day cannot be in the past.")
    OPEN_VISIT_EXISTS = ("open_visit_exists", 409, "该案件已有未完成的外访。", "The case already has an open field visit.")
    NOT_IN_TEAM = ("not_in_team", 400, "所选人员不是该外访团队的在岗外访员。",
                   "The person chosen is not an available field agent of the visit's team.")
    SAME_PERSON = ("same_person", 400, "主办和同行人员不能是同一人。", "Agent and partner must be two different people.")
    TWO_PERSON_REQUIRED = ("two_person_required", 409, "该外访须两人同行（政策要求或存在风险标记）。",
                           "This visit needs two staff (policy or risk flags).")
    NO_FIELD_TEAM = ("no_field_team", 400, "请选择外访团队。", "Choose a field team.")
    NOT_LEADER = ("not_leader", 403, "只有该外访团队的组长可以操作。", "Only the leader of the field team may do this.")
    NOT_PLANNED = ("not_planned", 409, "该外访当前不能签到。", "This visit cannot be checked in now.")
    NOT_TODAY = ("not_today", 409, "只能在外访当天签到。", "A visit can be checked in only on its day.")
    NOT_IN_PROGRESS = ("not_in_progress", 409, "请先签到。", "Check in first.")
    ALREADY_REPORTED = ("already_reported", 409, "该外访已提交报告。", "This visit already has a report.")
    REPORT_REQUIRED = ("report_required", 409, "请先提交外访报告再签退。", "File the visit report before checking out.")
    REPORT_INVALID = ("report_invalid", 400, "报告有误，请检查。", "The report has problems; please check it.")
    PHOTO_TYPE = ("photo_type", 400, "照片格式不支持。", "This photo format is not supported.")
    PHOTO_SIZE = ("photo_size", 400, "照片过大或为空。", "The photo is too large or empty.")

    # ---- money -------------------------------------------------------------------------------------
    PAYMENT_CONFLICT = ("payment_conflict", 409, "该付款编号已按不同的金额或时间入账。",
                        "This payment id was already posted with other figures.")
    NO_EXCHANGE_RATE = ("no_exchange_rate", 409, "审批权限以人民币（CNY）核定，该币种没有登记的折算汇率，无法判断审批权限。",
                        "Approval limits are set in CNY and this currency has no recorded exchange rate, so the "
                        "approval cannot be checked.")
    SERVICING_REFUSED = ("servicing_refused", 400, "分期或减免未通过，原因见问题列表。",
                         "The plan or settlement was refused; see the list of problems.")
    UNKNOWN_PRODUCT = ("unknown_product", 404, "没有这个卡产品的条款。", "There are no terms for this card product.")

    # ---- intake, daily run, audit, keys ------------------------------------------------------------
    EXTRACT_REJECTED = ("extract_rejected", 400, "数据文件未通过校验，请查看问题列表。",
                        "The extract was rejected; see the list of problems.")
    IMPORT_REFUSED = ("import_refused", 409, "该数据文件早于已导入的数据，不能导入。",
                      "The extract is older than the data already loaded.")
    RUN_REFUSED = ("run_refused", 409, "日终批处理只能向后运行。", "Daily runs go forward in time.")
    APPEND_ONLY = ("append_only", 409, "审计记录只能追加，不能修改或删除。",
                   "Audit events can only be appended, never changed or removed.")
    CONFIGURATION_ERROR = ("configuration_error", 500, "系统配置有误。", "The system is misconfigured.")
    DECRYPTION_FAILED = ("decryption_failed", 500, "无法解密已存储的数据。", "Stored data could not be decrypted.")

    @property
    def is_client_error(self) -> bool:
        return 400 <= self.status < 500


def normalize_language(language: str | None) -> str:
    """``en``, ``en-us`` → ``en``; anything else (``zh-hans``, ``zh``, ``None``) → ``zh-hans``."""
    lang = (language or "").replace("_", "-").lower()
    return "en" if lang == "en" or lang.startswith("en-") else "zh-hans"


def _active_language() -> str | None:
    try:
        from django.utils.translation import get_language
    except ImportError:  # pragma: no cover - Django is installed wherever the apps run
        return None
    return get_language()


def _render_lazy(message: Any, language: str) -> str:
    """A lazily translated Django string in ``language`` (``str()`` of anything else)."""
    try:
        from django.utils import translation
    except ImportError:  # pragma: no cover
        return str(message)
    with translation.override(language):
        return str(message)


def jsonable(value: Any) -> Any:
    """``value`` with dates/times ISO 8601, decimals as exact strings, enums as their values,
    tuples/sets as lists, mappings with string keys (for JSON)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return str(value)


class ArrearsError(Exception):
    """A refusal with a stable ``code`` (:class:`ErrorCode`), a message in Chinese and English,
    the offending input ``field`` (or ``None``) and JSON-able ``details``; ``status`` (HTTP)
    follows from the code.

    ``message`` may be

    * a pair ``(zh, en)``;
    * a lazily translated Django string (``gettext_lazy``, Chinese source): rendered per language;
    * a plain string: a technical text (English, for logs and developers: ``str(exc)``, and
      ``details["detail"]`` in the JSON); the user sees the code's message from the registry;
    * ``None``: the code's message from the registry.

    ``detail`` gives the technical text beside a pair or lazy message.

    Subclasses set their default ``code`` as a class attribute and keep their own constructors.
    """

    code: ErrorCode = ErrorCode.INVALID_INPUT
    field: str | None = None

    def __init__(self, message: Any = None, *, code: ErrorCode | str | None = None, field: str | None = None,
                 details: Mapping[str, Any] | None = None, detail: str | None = None) -> None:
        if code is not None:
            self.code = ErrorCode(code)
        if field is not None:
            self.field = field
        self.details = dict(details or {})
        if isinstance(message, str) and detail is None:
            message, detail = None, message
        self._message = message
        self._text = detail
        if self._text is not None:
            super().__init__(self._text)
        else:
            super().__init__()

    # ---- what the user reads -----------------------------------------------------------------------
    def message(self, language: str | None = None) -> str:
        """The message in ``language`` (``zh-hans`` or ``en``; default: Django's active language
        where there is one, else Chinese)."""
        lang = normalize_language(language if language is not None else _active_language())
        m = self._message
        if isinstance(m, tuple | list) and len(m) == 2:
            return str(m[1] if lang == "en" else m[0])
        if m is not None and not isinstance(m, str):
            return _render_lazy(m, lang)
        return self.code.message_en if lang == "en" else self.code.message_zh

    @property
    def message_zh(self) -> str:
        return self.message("zh-hans")

    @property
    def message_en(self) -> str:
        return self.message("en")

    @property
    def status(self) -> int:
        return self.code.status

    def to_dict(self, language: str | None = None) -> dict[str, Any]:
        """``{"code", "message", "field", "details"}``: the one JSON shape of an error."""
        details = dict(self.details)
        if self._text and "detail" not in details:
            details["detail"] = self._text
        return {"code": self.code.value, "message": self.message(language), "field": self.field,
                "details": jsonable(details)}

    def __str__(self) -> str:
        return self._text if self._text is not None else self.message_en


def log_unexpected(exc: BaseException, where: str) -> None:
    """Log an exception nobody expected (a bug, not a refusal) once, with its traceback; the caller
    re-raises it (a 500) or shows a generic message — it is never silently dropped."""
    if getattr(exc, "_arrears_logged", False):
        return
    log.error("unexpected %s in %s", type(exc).__name__, where, exc_info=(type(exc), exc, exc.__traceback__))
    try:
        exc._arrears_logged = True  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        pass
