"""Bucket ladder: packaged rule data, validation with every problem listed, bucket_for, roll."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.buckets import Bucket, BucketLadder
from arrears.domain.errors import DomainError, RuleDataError
from arrears.rules import DEFAULT_BUCKETS, load_bucket_ladder, load_schema

LADDER = load_bucket_ladder()


def b(name, lo, hi, zh="标签", en="label"):
    return Bucket(name, lo, hi, zh, en)


def write(tmp_path: Path, data, name="ladder.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def good_data():
    return yaml.safe_load(DEFAULT_BUCKETS.read_text(encoding="utf-8"))


# ---- the packaged ladder ------------------------------------------------------------------------

def test_packaged_ladder_shape():
    assert LADDER.version == "2026.1"
    assert [(x.name, x.min_dpd, x.max_dpd) for x in LADDER.buckets] == [
        ("M0", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M4", 91, 120),
        ("M5", 121, 150), ("M6", 151, 180), ("M7+", 181, None),
    ]
    assert (LADDER.buckets[0].label_zh, LADDER.buckets[0].label_en) == ("当前", "Current")
    assert all(x.label_zh and x.label_en for x in LADDER.buckets)
    assert LADDER.validate() == []
    assert load_bucket_ladder(str(DEFAULT_BUCKETS)) == LADDER


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"), (91, "M4"),
     (120, "M4"), (121, "M5"), (150, "M5"), (151, "M6"), (180, "M6"), (181, "M7+"), (10_000, "M7+")],
)
def test_bucket_for_boundaries(dpd, bucket):
    assert LADDER.bucket_for(dpd) == bucket


def test_bucket_for_refuses_bad_dpd():
    with pytest.raises(ValueError):
        LADDER.bucket_for(-1)
    with pytest.raises(TypeError):
        LADDER.bucket_for(1.0)
    with pytest.raises(TypeError):
        LADDER.bucket_for(True)


def test_index_of_and_lookups():
    assert LADDER.index_of("M0") == 0 and LADDER.index_of("M7+") == 7
    assert LADDER.names[0] == "M0" and LADDER.current.name == "M0"
    assert LADDER.bucket("M2").max_dpd == 60
    assert not LADDER.is_delinquent("M0") and LADDER.is_delinquent("M1")
    with pytest.raises(DomainError, match="M9"):
        LADDER.index_of("M9")


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_property_bucket_for_is_total_and_monotone(a, b_):
    lo, hi = sorted((a, b_))
    assert LADDER.index_of(LADDER.bucket_for(lo)) <= LADDER.index_of(LADDER.bucket_for(hi))
    bucket = LADDER.bucket(LADDER.bucket_for(a))
    assert bucket.min_dpd <= a and (bucket.max_dpd is None or a <= bucket.max_dpd)


# ---- roll ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("previous", "current", "roll"),
    [
        (None, "M1", "new"),
        (None, "M3", "new"),
        (None, "M0", "stay"),
        ("M0", "M0", "stay"),
        ("M2", "M2", "stay"),
        ("M0", "M1", "forward"),
        ("M1", "M2", "forward"),
        ("M1", "M3", "forward"),
        ("M6", "M7+", "forward"),
        ("M3", "M2", "back"),
        ("M7+", "M1", "back"),
        ("M1", "M0", "cure"),
        ("M7+", "M0", "cure"),
    ],
)
def test_roll(previous, current, roll):
    assert LADDER.roll(previous, current) == roll


def test_roll_unknown_bucket():
    with pytest.raises(DomainError):
        LADDER.roll("M1", "X")
    with pytest.raises(DomainError):
        LADDER.roll("X", "M1")


# ---- validation: every problem, at once ---------------------------------------------------------

def test_bad_ladder_lists_every_problem():
    bad = BucketLadder("", (
        b("M0", 1, 0),       # does not start at 0, and max < min
        b("M1", 5, 30),      # gap 1..4 after M0 (M0 ends at 0)
        b("M1", 25, 60),     # duplicate name, overlap with the previous M1
        b("M3", 61, 90, zh=" "),  # blank label
    ))
    problems = bad.validate(raise_on_error=False)
    text = "\n".join(problems)
    assert "version" in text
    assert "must start at DPD 0" in text
    assert "max_dpd 0 is below min_dpd 1" in text
    assert "gap between 'M0' and 'M1'" in text
    assert "overlap between 'M1' (ends 30) and 'M1'" in text
    assert "'M1' is used more than once" in text
    assert "label_zh" in text
    assert "no open-ended bucket" in text
    assert len(problems) == 8
    with pytest.raises(RuleDataError) as err:
        bad.validate()
    assert err.value.errors == problems


@pytest.mark.parametrize(
    ("buckets", "fragment"),
    [
        ((), "no buckets"),
        ((b("M0", 0, 0), b("M1", 1, None), b("M2", 31, None)), "exactly one bucket may be open-ended"),
        ((b("M0", 0, 0), b("M7+", 1, None), b("M1", 2, 30)), "must be the last one"),
        ((b("M0", 0, 0), b("M2", 31, 60), b("M1", 1, 30), b("M3", 61, None)), "overlap"),
        ((b("M0", 0, 0), b("M1", 2, None)), "DPD 1–1 has no bucket"),
    ],
)
def test_bad_ladders(buckets, fragment):
    problems = BucketLadder("x", buckets).validate(raise_on_error=False)
    assert any(fragment in p for p in problems), problems


def test_invalid_ladder_refuses_lookups():
    bad = BucketLadder("x", (b("M0", 0, 0), b("M1", 5, None)))
    with pytest.raises(RuleDataError):
        bad.bucket_for(3)
    with pytest.raises(RuleDataError):
        bad.roll(None, "M1")


def test_a_current_bucket_wider_than_zero_is_allowed():
    ladder = BucketLadder("grace", (b("C", 0, 3), b("D", 4, None)))
    assert ladder.validate() == []
    assert ladder.bucket_for(3) == "C" and ladder.roll("D", "C") == "cure"


# ---- loading files ------------------------------------------------------------------------------

def test_loader_reports_schema_and_shape_errors_together_naming_the_file(tmp_path):
    data = good_data()
    data["version"] = 2026.1                 # schema: not a string
    data["buckets"][1]["max_dpd"] = 29       # shape: gap at 30
    del data["buckets"][2]["label_en"]       # schema: required
    data["buckets"][3]["colour"] = "red"     # schema: unknown key
    data["buckets"][4]["name"] = "M2"        # shape: duplicate name
    path = write(tmp_path, data)
    with pytest.raises(RuleDataError) as err:
        load_bucket_ladder(path)
    e = err.value
    assert e.source == str(path) and str(path) in str(e)
    text = "\n".join(e.errors)
    assert "version: 2026.1 is not of type 'string'" in text
    assert "buckets[2]: 'label_en' is a required property" in text
    assert "buckets[3]: Additional properties are not allowed ('colour'" in text
    assert "gap between 'M1' and 'M2': DPD 30–30 has no bucket" in text
    assert "'M2' is used more than once" in text
    assert len(e.errors) == 5


def test_loader_schema_errors_only_when_structure_is_unusable(tmp_path):
    path = write(tmp_path, {"version": "1", "buckets": [{"name": "M0", "min_dpd": "zero"}], "extra": 1})
    with pytest.raises(RuleDataError) as err:
        load_bucket_ladder(path)
    text = "\n".join(err.value.errors)
    assert "Additional properties" in text and "'zero' is not of type 'integer'" in text
    assert "'max_dpd' is a required property" in text


def test_loader_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(RuleDataError, match="not valid YAML"):
        load_bucket_ladder(write(tmp_path, "version: [unclosed\n"))
    with pytest.raises(RuleDataError, match="cannot read"):
        load_bucket_ladder(tmp_path / "nope.yaml")
    with pytest.raises(RuleDataError):
        load_bucket_ladder(write(tmp_path, "just a string\n"))


def test_bucket_names_are_safe_identifiers_in_the_schema(tmp_path):
    # the batch engine embeds names in SQL literals; the schema keeps quotes out
    data = good_data()
    data["buckets"][1]["name"] = "M1'; DROP TABLE x; --"
    with pytest.raises(RuleDataError, match="does not match"):
        load_bucket_ladder(write(tmp_path, data))


def test_schema_is_valid_json_schema():
    from jsonschema import Draft202012Validator

    schema = load_schema("buckets.schema.json")
    Draft202012Validator.check_schema(schema)
    assert json.loads((DEFAULT_BUCKETS.parent / "schemas" / "buckets.schema.json").read_text()) == schema
