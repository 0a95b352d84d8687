"""SMS channel units (issue 8): segment counting and splitting, templates in the sandbox, masked
and unambiguous values, opt-out keywords, the debtor-local send window (R14's arithmetic)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from arrears.contexts.contact.sms import policy as pol
from arrears.contexts.contact.sms import templating
from arrears.adapters import sms_segments as segments
from arrears.domain.errors import RuleDataError

P = pol.policy()


# ---- segments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text,encoding,parts", [
    ("a" * 160, "gsm7", 1), ("a" * 161, "gsm7", 2), ("a" * 306, "gsm7", 2), ("a" * 307, "gsm7", 3),
    ("€" * 80, "gsm7", 1), ("€" * 81, "gsm7", 2),              # extension characters are 2 septets
    ("中" * 70, "ucs2", 1), ("中" * 71, "ucs2", 2), ("中" * 134, "ucs2", 2), ("中" * 135, "ucs2", 3),
    ("a" * 69 + "é", "gsm7", 1), ("a" * 69 + "ā", "ucs2", 1),  # é is GSM-7, ā is not
    ("", "gsm7", 1),
])
def test_segment_counts(text, encoding, parts):
    s = segments.count(text)
    assert (s.encoding, s.parts) == (encoding, parts)
    assert len(segments.split(text)) == parts


def test_split_never_cuts_an_escape_sequence_or_a_surrogate_pair():
    text = "a" * 152 + "€" + "b" * 10  # the euro sign would straddle the 153-septet boundary
    parts = segments.split(text)
    assert parts[0] == "a" * 152 and parts[1].startswith("€") and "".join(parts) == text
    emoji = "中" * 66 + "😀" + "中" * 10  # a surrogate pair at UCS-2 unit 67
    parts = segments.split(emoji)
    assert parts[0] == "中" * 66 and parts[1].startswith("😀") and "".join(parts) == emoji
    assert all(sum(2 if ord(c) > 0xFFFF else 1 for c in p) <= 67 for p in parts)


def test_encode_parts_udh_and_sar():
    text = "【深圳示例银行】" + "您好" * 40
    enc, parts = segments.encode_parts(text, ref=0x2A, udh=True)
    assert enc == "ucs2" and len(parts) == 2
    assert parts[0][:6] == bytes([0x05, 0x00, 0x03, 0x2A, 2, 1]) and parts[1][:6] == bytes([5, 0, 3, 0x2A, 2, 2])
    assert b"".join(p[6:] for p in parts).decode("utf-16-be") == text
    enc, bare = segments.encode_parts(text, ref=0x2A, udh=False)
    assert b"".join(bare).decode("utf-16-be") == text
    assert all(len(p) <= 140 for p in parts)


def test_gsm7_round_trip():
    text = "Pay {now} [ref] ~ |x| ^ € @£$"
    _enc, parts = segments.encode_parts(text, ref=1)
    assert segments.decode(parts[0], 0) == text


# ---- templates --------------------------------------------------------------------------------
CTX_ZH = templating.sample_context("zh-hans", P.hotline)


def test_render_composes_signature_body_and_opt_out_line():
    r = templating.render("您尾号{{ card_last4 }}的信用卡逾期{{ overdue_amount }}。", ["card_last4", "overdue_amount"],
                          "zh-hans", CTX_ZH, P)
    assert r.text == "【深圳示例银行】您尾号1234的信用卡逾期1,234.50元。回复TD退订"
    assert r.segments.encoding == "ucs2" and r.segments.parts == 1


def test_money_and_dates_are_masked_exact_and_unambiguous():
    from arrears.domain.money import format_money  # the one money formatter (SMS, pages, scripts)

    assert format_money(Decimal("1234.5"), "CNY", "zh-hans") == "1,234.50元"
    assert format_money(Decimal("1234.5"), "CNY", "en") == "CNY 1,234.50"
    with pytest.raises(TypeError):
        format_money(1234.5, "CNY", "en")  # never a float
    assert templating.format_date(date(2025, 2, 3), "zh-hans") == "2025年2月3日"
    assert templating.format_date(date(2025, 2, 3), "en") == "3 February 2025"


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ card_last4.__class__ }}",
    "{{ card_last4|attr('__class__') }}",
    "{% for x in range(10) %}{{ x }}{% endfor %}",
    "{{ lipsum.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% set x = 1 %}{{ x }}",
    "{% macro m() %}x{% endmacro %}{{ m() }}",
    "{{ card_last4[0] }}",
    "{{ config }}",
])
def test_sandbox_escape_attempts_are_refused(body):
    problems = templating.check_body("您好" + body, ["card_last4"], "zh-hans", P)
    assert problems, body
    with pytest.raises(templating.TemplateRefused):
        templating.render("您好" + body, ["card_last4"], "zh-hans", CTX_ZH, P)


def test_the_sandbox_itself_refuses_unsafe_attribute_access():
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        templating._ENV.from_string("{{ x.__class__.__mro__ }}").render(x="")


@pytest.mark.parametrize("body,declared,language,code", [
    ("您好{{ card_last4 }}", [], "zh-hans", "undeclared_variable"),
    ("您好{{ phone }}", ["phone"], "zh-hans", "unknown_variable"),
    ("【某银行】您好", [], "zh-hans", "signature_in_body"),
    ("您好，回复TD退订", [], "zh-hans", "opt_out_in_body"),
    ("Please pay 请还款", [], "en", "mixed_language"),
    ("Please pay", [], "zh-hans", "mixed_language"),
    ("{{ card_last4 ", ["card_last4"], "zh-hans", "syntax"),
    ("   ", [], "zh-hans", "empty"),
])
def test_template_form_rules(body, declared, language, code):
    assert code in [c for c, _ in templating.check_body(body, declared, language, P)]


def test_too_long_is_refused():
    with pytest.raises(templating.TemplateRefused) as exc:
        templating.render("请还款" * 80, [], "zh-hans", CTX_ZH, P)
    assert exc.value.codes == ["too_long"]


def test_language_tags_are_normalised():
    assert templating.normalize_language("zh-CN") == "zh-hans"
    assert templating.normalize_language("zh_Hans") == "zh-hans"
    assert templating.normalize_language("en-US") == "en"
    assert templating.normalize_language("fr-FR") == "fr-fr"


# ---- opt-out keywords -------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("TD", True), ("td", True), ("ＴＤ", True), ("ｔｄ", True), (" td ", True), ("TD。", True),
    ("退订", True), ("我要退订", True), ("STOP", True), ("Stop please", True), ("ＳＴＯＰ", True),
    ("unsubscribe", True), ("取消订阅", True),
    ("stopped", False), ("ATDX", False), ("我明天还款", False), ("", False), ("好的", False),
])
def test_opt_out_keywords(text, expected):
    from arrears.contexts.contact.sms.services import is_opt_out

    assert is_opt_out(text) is expected


# ---- the debtor-local window (R14's arithmetic) -------------------------------------------------
def test_window_in_the_debtors_own_zone_dst_included():
    ny = "America/New_York"
    # 2025-03-09 is the spring-forward day in New York: 08:00 UTC is 04:00 EDT
    now = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)
    assert not pol.in_window(now, ny, P)
    assert pol.next_window_start(now, ny, P) == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)  # 08:00 EDT
    # the day before (EST): 08:00 local = 13:00 UTC
    assert pol.next_window_start(datetime(2025, 3, 8, 8, 0, tzinfo=UTC), ny, P) == datetime(2025, 3, 8, 13, 0, tzinfo=UTC)
    # Tokyo 20:00 UTC = 05:00 next day local → 08:00 local = 23:00 UTC
    assert pol.next_window_start(datetime(2025, 3, 9, 20, 0, tzinfo=UTC), "Asia/Tokyo", P) == \
        datetime(2025, 3, 9, 23, 0, tzinfo=UTC)
    # Berlin 20:00 UTC = 21:00 CET: the window's end is outside → next day 08:00 CET = 07:00 UTC
    assert not pol.in_window(datetime(2025, 3, 9, 20, 0, tzinfo=UTC), "Europe/Berlin", P)
    assert pol.next_window_start(datetime(2025, 3, 9, 20, 0, tzinfo=UTC), "Europe/Berlin", P) == \
        datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
    assert pol.in_window(datetime(2025, 3, 9, 8, 0, tzinfo=UTC), "Asia/Tokyo", P)  # 17:00 JST


def test_policy_file_errors_are_all_listed(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nsend_window: {from: '25:00', until: '08:00'}\nmax_per_debtor_per_day: 0\n")
    with pytest.raises(RuleDataError) as exc:
        pol.load_policy(bad)
    text = "\n".join(exc.value.errors)
    assert "version" in text and "send_window.from" in text and "max_per_debtor_per_day" in text and "retry" in text


def test_backoff_grows_and_repeats_its_last_value():
    assert [P.backoff(i).total_seconds() for i in (1, 2, 3, 4, 5, 9)] == [60, 300, 900, 3600, 3600, 3600]
    assert P.window_from == time(8) and P.window_until == time(21)
