"""Content screening (issue 4, point 4): rules as data, categories, offsets, the third-party switch,
false positives and recall measured on a labelled set, speed.

The labelled set lives in tests/fixtures/screening/ (see its README): legitimate messages (Chinese
and English reminders, letters, scripts, third-party scripts) and prohibited ones (Chinese written
from RULES.md §1.4; English from CFPB complaint narratives, with their Complaint IDs, and in-project).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.domain.errors import RuleDataError
from arrears.domain.screening import CATEGORIES, Match, compile_lexicon, screen, trie_regex
from arrears.rules.lexicons import SCREENING_DIR, load_screening_lexicon, read_word_list, screening_lexicon

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"
ROOT = Path(__file__).resolve().parents[2]

#: Catalogue ids (RULES.md) that screening rules may name.
CATALOGUE_IDS = {f"CN-PROHIBIT-{i:02d}" for i in range(1, 12)} | {
    "CN-WHO-03",
    "CN-FREQ-03",
    "US-REGF-14-OTHER",
    "US-REGF-6D-01",
    "US-REGF-22F-01",
}

MAX_FALSE_POSITIVE_RATE = 0.01
MIN_RECALL = 0.95


def _rows(name: str) -> list[list[str]]:
    out = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split("\t"))
    return out


def _legit(lang: str) -> list[tuple[bool, str]]:
    rows = _rows(f"legit_{lang}.tsv")
    assert all(len(r) == 3 and r[0] in ("debtor", "third") for r in rows)
    return [(party == "third", text) for party, _kind, text in rows]


def _prohibited(lang: str) -> list[tuple[bool, str, str, str]]:
    rows = _rows(f"prohibited_{lang}.tsv")
    assert all(len(r) == 4 and r[0] in ("debtor", "third") and r[1] in CATEGORIES for r in rows), rows
    return [(party == "third", category, source, text) for party, category, source, text in rows]


# ---------------------------------------------------------------------------------------------
# Measurement


def _measure(lang: str) -> dict:
    legit = _legit(lang)
    prohibited = _prohibited(lang)
    flagged = [(t, m) for tp, t in legit for m in [screen(t, to_third_party=tp, lang=lang)] if m]
    detected = missed = detected_any = 0
    misses = []
    for tp, category, source, text in prohibited:
        found = screen(text, to_third_party=tp, lang=lang)
        detected_any += bool(found)
        if any(m.category == category for m in found):
            detected += 1
        else:
            missed += 1
            misses.append((source, category, text, found))
    return {
        "lang": lang,
        "legit": len(legit),
        "false_positives": flagged,
        "prohibited": len(prohibited),
        "detected": detected,
        "detected_any": detected_any,
        "misses": misses,
    }


def test_fixture_sizes():
    legit = len(_legit("zh")) + len(_legit("en"))
    prohibited = len(_prohibited("zh")) + len(_prohibited("en"))
    assert legit >= 150 and prohibited >= 100
    assert len(_legit("zh")) >= 150 and len(_prohibited("zh")) >= 100
    cfpb = [s for _tp, _c, s, _t in _prohibited("en") if s.startswith("CFPB ")]
    assert len(cfpb) >= 15 and all(re.fullmatch(r"CFPB \d{7}", s) for s in cfpb)
    for lang in ("zh", "en"):
        assert {c for _tp, c, _s, _t in _prohibited(lang)} == set(CATEGORIES)


def test_precision_recall_and_false_positive_rate(capsys):
    results = [_measure("zh"), _measure("en")]
    legit = sum(r["legit"] for r in results)
    fp = sum(len(r["false_positives"]) for r in results)
    prohibited = sum(r["prohibited"] for r in results)
    tp = sum(r["detected"] for r in results)
    lines = []
    for r in results + [{"lang": "all", "legit": legit, "false_positives": [None] * fp,
                         "prohibited": prohibited, "detected": tp,
                         "detected_any": sum(x["detected_any"] for x in results), "misses": []}]:
        n_fp = len(r["false_positives"])
        precision = r["detected"] / (r["detected"] + n_fp) if r["detected"] + n_fp else 1.0
        lines.append(
            f"screening[{r['lang']}]: legitimate {r['legit']}, false positives {n_fp} "
            f"({n_fp / r['legit']:.2%}); prohibited {r['prohibited']}, detected in the expected category "
            f"{r['detected']} (recall {r['detected'] / r['prohibited']:.2%}; any category "
            f"{r['detected_any'] / r['prohibited']:.2%}); precision {precision:.2%}"
        )
    for r in results:
        for source, category, text, found in r["misses"]:
            lines.append(f"  missed [{r['lang']}] {category} ({source}): {text}  -> {found}")
        for text, found in r["false_positives"]:
            lines.append(f"  false positive [{r['lang']}]: {text}  -> {found}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert fp / legit <= MAX_FALSE_POSITIVE_RATE, lines
    assert tp / prohibited >= MIN_RECALL, lines
    for r in results:  # and per language
        assert len(r["false_positives"]) / r["legit"] <= MAX_FALSE_POSITIVE_RATE, lines
        assert r["detected"] / r["prohibited"] >= MIN_RECALL, lines


def test_offsets_on_the_whole_set():
    for lang in ("zh", "en"):
        texts = [t for _tp, t in _legit(lang)] + [t for *_x, t in _prohibited(lang)]
        for text in texts:
            for m in screen(text, to_third_party=True, lang=lang):
                assert isinstance(m, Match)
                assert text[m.start:m.end] == m.text and m.text
                assert m.category in CATEGORIES and m.rule_id in CATALOGUE_IDS


def test_the_projects_own_chinese_ui_strings_are_not_flagged():
    po = (ROOT / "src/arrears/locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    ids = [s for s in re.findall(r'^msgid "(.+)"$', po, re.M) if re.search(r"[\u4e00-\u9fff]", s)]
    assert len(ids) > 100
    assert [(s, screen(s)) for s in ids if screen(s)] == []


def test_generated_chinese_names_addresses_and_companies_are_not_flagged():
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(4)
    texts = [f() for _ in range(1500) for f in (fake.name, fake.address, fake.company, fake.job)]
    flagged = [(t, screen(t)) for t in texts if screen(t)]
    assert len(flagged) <= len(texts) * 0.001, flagged


# ---------------------------------------------------------------------------------------------
# Categories


@pytest.mark.parametrize(
    "text, category, rule_id, span",
    [
        ("再不还钱就让你坐牢", "threat", "CN-PROHIBIT-01", "坐牢"),
        ("公安已经立案，明天就逮捕你", "threat", "CN-PROHIBIT-04", "公安已经立案"),
        ("你要承担刑事责任", "threat", "CN-PROHIBIT-04", "刑事责任"),
        ("我们明天去你单位找你", "threat", "CN-PROHIBIT-08", "去你单位"),
        ("我是海淀区人民法院的，你的案子立了", "impersonation", "CN-PROHIBIT-02", "我是海淀区人民法院"),
        ("传票已经寄出", "impersonation", "CN-PROHIBIT-02", "传票"),
        ("给你发律师函", "impersonation", "CN-PROHIBIT-04", "律师函"),
        ("马上把你拉进征信黑名单", "fake_blacklist", "CN-PROHIBIT-04", "黑名单"),
        ("把你列入失信被执行人", "fake_blacklist", "CN-PROHIBIT-04", "列入失信"),
        ("再不还就爆你通讯录", "exposure", "CN-PROHIBIT-09", "爆你通讯录"),
        ("我们会通知你的领导", "exposure", "CN-PROHIBIT-09", "通知你的领导"),
        ("把你照片发朋友圈", "exposure", "CN-PROHIBIT-09", "朋友圈"),
        ("去你家门口拉横幅", "exposure", "CN-PROHIBIT-06", "拉横幅"),
        ("你个傻逼", "abuse", "CN-PROHIBIT-01", "傻逼"),
        ("你这个老赖", "abuse", "CN-PROHIBIT-01", "老赖"),
        ("天天打爆你的电话", "threat", "CN-FREQ-03", "打爆你的电话"),
    ],
)
def test_each_chinese_category(text, category, rule_id, span):
    found = screen(text)
    assert Match(rule_id, category, text.index(span), text.index(span) + len(span), span) in found, found


@pytest.mark.parametrize(
    "text, category, rule_id, span",
    [
        ("You will be arrested if you do not pay.", "threat", "US-REGF-14-OTHER", "arrested"),
        ("You'll go to jail.", "threat", "US-REGF-14-OTHER", "jail"),
        ("We will sue you next week.", "threat", "US-REGF-14-OTHER", "sue you"),
        ("We will come to your workplace.", "threat", "US-REGF-14-OTHER", "come to your workplace"),
        ("This is Officer Brown with the sheriff's department.", "impersonation", "US-REGF-14-OTHER", "sheriff's department"),
        ("You are on the national debtors registry.", "fake_blacklist", "US-REGF-14-OTHER", "national debtors registry"),
        ("We will tell your employer.", "exposure", "US-REGF-6D-01", "tell your employer"),
        ("We will post this on Facebook.", "exposure", "US-REGF-22F-01", "post this on Facebook"),
        ("Pay your damn bill.", "abuse", "US-REGF-14-OTHER", "damn"),
    ],
)
def test_each_english_category(text, category, rule_id, span):
    found = screen(text, lang="en")
    start = text.index(span)
    assert Match(rule_id, category, start, start + len(span), span) in found, found


# ---------------------------------------------------------------------------------------------
# The third-party switch, negations, the skip and allow lists


@pytest.mark.parametrize(
    "text, lang, spans",
    [
        ("请转告他，他的欠款5,000元已逾期30天。", "zh", ["欠款", "5,000元", "逾期"]),
        ("麻烦您提醒他尽快还款，金额￥3200。", "zh", ["还款", "￥3"]),
        ("Please tell him his balance of $2,300 is past due.", "en", ["balance", "$2", "past due"]),
    ],
)
def test_debt_details_are_flagged_only_to_a_third_party(text, lang, spans):
    assert screen(text, lang=lang) == []
    found = screen(text, to_third_party=True, lang=lang)
    assert {m.category for m in found} == {"third_party_disclosure"}
    assert [m.text for m in found] == spans
    assert {m.rule_id for m in found} == {"CN-WHO-03" if lang == "zh" else "US-REGF-6D-01"}


def test_third_party_messages_that_only_ask_for_a_call_back_pass():
    assert screen("您好，麻烦您转告张先生回电95555，谢谢。", to_third_party=True) == []
    assert screen("Please ask John to call Jane at 1-888-555-0199.", to_third_party=True, lang="en") == []


def test_a_threat_to_a_third_party_is_still_a_threat():
    found = screen("告诉他再不还钱就去坐牢", to_third_party=True)
    assert {"threat", "third_party_disclosure"} <= {m.category for m in found}


@pytest.mark.parametrize(
    "text, lang",
    [
        ("我们不会通知您的单位", "zh"),
        ("我们不会把您的欠款情况告诉您的家人", "zh"),
        ("我行不会以公检法名义要求您转账", "zh"),
        ("谨防不法分子冒充法院工作人员", "zh"),
        ("信用卡欠款属于民事纠纷，不会坐牢", "zh"),
        ("We will not contact your employer.", "en"),
        ("You won't be arrested for a credit card debt.", "en"),
        ("Because of the age of your debt, we will not sue you for it.", "en"),
        ("The law limits how long you can be sued on a debt.", "en"),
    ],
)
def test_negated_and_standard_wording_is_not_flagged(text, lang):
    assert screen(text, lang=lang) == []


@pytest.mark.parametrize(
    "text",
    ["不还钱就坐牢", "你不还，我们就通知你的领导", "要是不还款，就去你家找你"],
)
def test_a_conditional_is_not_a_negation(text):
    assert screen(text) != []


def test_if_you_dont_pay_is_not_a_negation_in_english():
    assert screen("If you don't pay, we'll call your boss.", lang="en") != []


@pytest.mark.parametrize(
    "ordinary",
    [
        "您可一次性还清欠款",  # 性
        "可申请个性化分期还款",  # 性
        "还款的可能性",  # 性
        "请于今日13点前还款",  # 13点
        "本期账单共计1,213.50元",  # 13.
        "本月应还柒佰伍拾元整",  # 柒
        "请问您是他妈妈吗",  # 他妈
        "请提供您妈妈的电话",  # 妈的 / 妈妈的
        "今日你的账单已到期",  # 日你
        "合肥市肥西县网点",  # 肥西
        "请注册那个功能",  # 册那
        "他奶奶接的电话",  # 他奶奶
        "请靠背坐好",  # 靠背
        "请通过网上银行还款",
        "客服电话本行24小时服务",
    ],
)
def test_ordinary_words_containing_listed_terms_are_not_flagged(ordinary):
    assert screen(ordinary) == []


def test_abusive_compounds_of_skipped_terms_stay_flagged():
    for text in ("性交", "乳交", "傻逼", "日你妈", "干你娘", "操你祖宗", "你老母"):
        assert [m.category for m in screen(text)] == ["abuse"], text


def test_every_listed_word_that_is_not_skipped_is_flagged_on_its_own():
    lexicon = screening_lexicon("zh")
    terms = read_word_list(SCREENING_DIR / "ldnoobw_zh.txt")
    assert len(terms) == 318
    assert set(lexicon.skipped) <= set(terms)
    for term in terms:
        if term in lexicon.skipped:
            continue
        found = screen(term)
        assert found and found[0].start == 0 and found[0].end == len(term), (term, found)


def test_english_words_match_only_as_whole_words():
    for ordinary in ("Please pass this to the class.", "Hello Mr. Dickson, your assessment is ready.", "Shell station"):
        assert screen(ordinary, lang="en") == [], ordinary
    assert [m.text for m in screen("kiss my ass", lang="en")] == ["ass"]


def test_full_width_letters_are_folded_with_offsets_kept():
    text = "你个傻ｂ，ＦＵＣＫ"
    zh = screen(text)
    assert [m.text for m in zh] == ["傻ｂ"]
    en = screen("what the ＦＵＣＫ", lang="en")
    assert [(m.start, m.end, m.text) for m in en] == [(9, 13, "ＦＵＣＫ")]


def test_empty_text():
    assert screen("") == []


# ---------------------------------------------------------------------------------------------
# Rule data


def test_packaged_lexicons_load_and_name_catalogue_rules():
    for lang in ("zh", "en"):
        lexicon = screening_lexicon(lang)
        assert lexicon.lang == lang and lexicon.version
        assert lexicon.rule_ids <= CATALOGUE_IDS
        assert {e.category for e in lexicon.entries} == set(CATEGORIES)
        for e in lexicon.entries:
            assert e.description_zh and e.description_en
        assert screening_lexicon(lang) is lexicon  # read once
    with pytest.raises(ValueError):
        screening_lexicon("fr")


def test_the_word_list_keeps_its_licence_header_and_is_documented():
    head = (SCREENING_DIR / "ldnoobw_zh.txt").read_text(encoding="utf-8").splitlines()[:3]
    assert head[0].startswith("# LDNOOBW") and "CC-BY 4.0" in head[2]
    readme = (SCREENING_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "LDNOOBW" in readme


def test_an_invalid_rule_file_is_refused_with_every_error(tmp_path):
    (tmp_path / "words.txt").write_text("# header\n坏词\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
version: "1"
lang: zh
negation: '(?:不会'
rules:
  - id: zh.threat.a
    rule_id: not-an-id
    category: threat
    description_zh: 威胁
    description_en: threat
    patterns: ['(坐牢)']
  - id: zh.x.b
    rule_id: CN-PROHIBIT-01
    category: gossip
    description_zh: 闲话
    description_en: gossip
    patterns: ['[未闭合']
  - id: zh.x.c
    rule_id: CN-PROHIBIT-01
    category: abuse
    description_zh: 空
    description_en: empty
wordlists:
  - id: zh.abuse.list
    rule_id: CN-PROHIBIT-01
    category: abuse
    description_zh: 词表
    description_en: list
    file: words.txt
    skip: [{term: 不在表里, reason: test}]
""",
        encoding="utf-8",
    )
    with pytest.raises(RuleDataError) as exc:
        load_screening_lexicon(bad)
    errors = exc.value.errors
    text = "\n".join(errors)
    assert exc.value.source == str(bad)
    assert "rules[0].rule_id" in text  # schema: bad rule id
    assert "rules[1].category" in text  # schema: bad category
    assert "rules[2]" in text  # schema: neither patterns nor words
    assert "capturing groups" in text  # compiler: (坐牢)
    assert "not a valid regular expression" in text  # compiler: [未闭合 and the negation
    assert "不在表里" in text  # compiler: skip of an unknown term
    assert len(errors) >= 6


def test_a_missing_word_list_is_reported(tmp_path):
    bad = tmp_path / "zh.yaml"
    bad.write_text(
        'version: "1"\nlang: zh\nrules:\n  - {id: zh.a, rule_id: CN-PROHIBIT-01, category: abuse,'
        " description_zh: x, description_en: x, words: [坏]}\nwordlists:\n  - {id: zh.b,"
        " rule_id: CN-PROHIBIT-01, category: abuse, description_zh: x, description_en: x, file: nope.txt}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleDataError, match="cannot read nope.txt"):
        load_screening_lexicon(bad)


def test_compile_lexicon_is_pure_and_usable_directly():
    lexicon = compile_lexicon(
        {
            "lang": "zh",
            "version": "t",
            "rules": [{"id": "zh.t", "rule_id": "CN-PROHIBIT-01", "category": "threat", "words": ["坐牢"]}],
        }
    )
    assert screen("你会坐牢", lexicon=lexicon) == [Match("CN-PROHIBIT-01", "threat", 2, 4, "坐牢")]
    assert screen("你是傻逼", lexicon=lexicon) == []  # only what this lexicon holds


def test_trie_regex():
    rx = re.compile(trie_regex(["他妈", "他妈的", "他奶奶的", "a.b"]))
    assert rx.fullmatch("他妈") and rx.fullmatch("他妈的") and rx.fullmatch("他奶奶的") and rx.fullmatch("a.b")
    assert not rx.fullmatch("他奶奶") and not rx.fullmatch("axb")
    assert rx.match("他妈的呀").group() == "他妈的"  # longest first


# ---------------------------------------------------------------------------------------------
# Speed


def test_in_project_words_do_not_shadow_longer_list_words():
    """At one position the first entry wins: an in-project word that is a prefix of a word-list
    entry would cut the reported span short (王八 before 王八蛋)."""
    import yaml

    spec = yaml.safe_load((SCREENING_DIR / "zh.yaml").read_text(encoding="utf-8"))
    terms = read_word_list(SCREENING_DIR / "ldnoobw_zh.txt")
    clashes = [
        (rule["id"], w, t) for rule in spec["rules"] for w in rule.get("words", ()) for t in terms if t != w and t.startswith(w)
    ]
    assert clashes == []


def test_the_prefilter_changes_speed_not_results():
    for lang in ("zh", "en"):
        fast = screening_lexicon(lang)
        assert fast._debtor.pattern.startswith("(?=[") and fast._third_party.pattern.startswith("(?=[")
        plain = load_screening_lexicon(SCREENING_DIR / f"{lang}.yaml", prefilter=False)
        assert not plain._debtor.pattern.startswith("(?=[")
        texts = [t for _tp, t in _legit(lang)] + [t for *_x, t in _prohibited(lang)]
        texts += ["", "a", "¥5", "$5", "ＦＵＣＫ", "傻ｂ", "Ａ" * 50]
        for text in texts:
            for tp in (False, True):
                assert screen(text, to_third_party=tp, lexicon=fast) == screen(text, to_third_party=tp, lexicon=plain)
