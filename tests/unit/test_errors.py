"""The one error model (issue 14): every code has a status and a message in both languages, one
JSON shape, messages per language (pair, lazy Django string or the registry's default), and every
exception class of the project is an ArrearsError."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from arrears.core.errors import ArrearsError, ErrorCode, normalize_language


def test_every_code_has_a_status_and_a_message_in_both_languages():
    seen = set()
    for code in ErrorCode:
        assert code.value == code.value.lower() and " " not in code.value and code.value not in seen
        seen.add(code.value)
        assert 400 <= code.status <= 599, code
        assert code.message_zh and code.message_en, code
        assert code.message_zh != code.message_en, code
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in code.message_en), code  # English is English
        if "_" in code.value:  # no raw code shown to a user
            assert code.value not in code.message_zh and code.value not in code.message_en


@pytest.mark.parametrize("code,status", [
    ("invalid_input", 400), ("forbidden", 403), ("not_found", 404), ("conflict", 409),
    ("payment_conflict", 409), ("contact_refused", 409), ("stale_case", 409), ("illegal_transition", 409),
    ("method_not_allowed", 405), ("throttled", 429),
])
def test_status_follows_from_the_code(code, status):
    assert ErrorCode(code).status == status
    assert ArrearsError(code=code).status == status


def test_to_dict_is_the_one_shape_in_both_languages():
    err = ArrearsError(("金额必须大于 0。", "The amount must be greater than 0."), code=ErrorCode.INVALID_INPUT,
                       field="amount", details={"got": Decimal("-1.00"), "at": datetime(2026, 1, 2, tzinfo=timezone.utc)})
    zh, en = err.to_dict("zh-hans"), err.to_dict("en")
    assert set(zh) == {"code", "message", "field", "details"}
    assert zh == {"code": "invalid_input", "message": "金额必须大于 0。", "field": "amount",
                  "details": {"got": "-1.00", "at": "2026-01-02T00:00:00+00:00"}}
    assert en["message"] == "The amount must be greater than 0." and en["code"] == "invalid_input"
    assert err.message_zh == "金额必须大于 0。" and err.message_en == "The amount must be greater than 0."
    assert str(err) == "The amount must be greater than 0."


def test_a_plain_text_is_technical_and_the_user_reads_the_registry_message():
    err = ArrearsError("case 7 is not held by you", code="not_claimed", field="case_id")
    assert str(err) == "case 7 is not held by you"
    assert err.message("zh-hans") == ErrorCode.NOT_CLAIMED.message_zh
    assert err.message("en-us") == ErrorCode.NOT_CLAIMED.message_en
    d = err.to_dict("en")
    assert d["details"] == {"detail": "case 7 is not held by you"} and d["field"] == "case_id"
    assert ArrearsError().to_dict("zh-hans")["message"] == ErrorCode.INVALID_INPUT.message_zh


def test_a_lazy_django_string_is_rendered_in_each_language(settings):
    from django.utils.translation import gettext_lazy

    err = ArrearsError(gettext_lazy("没有这个案件。"), code="not_found")
    assert err.message("zh-hans") == "没有这个案件。"
    assert err.message("en") != "没有这个案件。" and err.message_en == err.message("en")


def test_the_code_compares_with_its_string_and_the_language_is_normalised():
    assert ErrorCode.CALL_OPEN == "call_open" and {"call_open": 1}[ErrorCode.CALL_OPEN] == 1
    assert normalize_language("en-US") == "en" and normalize_language("zh_Hans") == "zh-hans"
    assert normalize_language(None) == "zh-hans" and normalize_language("fr") == "zh-hans"


def test_core_errors_imports_without_django():
    """core/errors.py is pure Python, so the domain core may subclass it."""
    code = ("import sys, arrears.core.errors as e; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), sorted(sys.modules); "
            "import arrears.domain.errors as d; assert issubclass(d.DomainError, e.ArrearsError)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _project_exception_classes():
    import arrears

    found = {}
    for info in pkgutil.walk_packages(arrears.__path__, "arrears."):
        if ".migrations." in info.name:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith("arrears."):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_exception_class_of_the_project_is_an_arrears_error():
    classes = _project_exception_classes()
    assert len(classes) >= 30  # the walk found them (not an empty import)
    strays = sorted(name for name, cls in classes.items() if not issubclass(cls, ArrearsError))
    assert not strays, strays
    for name, cls in classes.items():
        assert isinstance(cls.code, ErrorCode), name
