"""PRC resident ID numbers (GB 11643-1999): check digit, generation, validation."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.national_id import PROVINCE_CODES, check_digit, is_valid, make_id, validate

D = date
# The example number used in GB 11643-1999
EXAMPLE = "11010519491231002X"


def test_standard_example():
    assert check_digit(EXAMPLE[:17]) == "X"
    parsed = validate(EXAMPLE)
    assert (parsed.area, parsed.birth_date, parsed.sex, parsed.sequence) == ("110105", D(1949, 12, 31), "F", 2)
    assert parsed.normalized == EXAMPLE


def test_hand_computed_check_digit():
    # 4·7+4·9+0·10+3·5+0·8+3·4+1·2+9·1+9·6+0·3+0·7+1·9+0·10+1·5+0·8+0·4+1·2 = 172; 172 mod 11 = 7 → "5"
    assert check_digit("44030319900101001") == "5"
    assert validate("440303199001010015").sex == "M"


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_property_check_digit_satisfies_iso_7064_mod_11_2(first17):
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    c = check_digit(first17)
    value = 10 if c == "X" else int(c)
    # ISO 7064 MOD 11-2: the weighted sum including the check character (weight 1) is ≡ 1 (mod 11)
    assert (sum(int(d) * w for d, w in zip(first17, weights)) + value) % 11 == 1


def test_weights_are_the_standard_ones():
    assert [2 ** (17 - i) % 11 for i in range(17)] == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100X", "", 11010519491231002, None])
def test_check_digit_needs_17_digits(bad):
    with pytest.raises(DomainError):
        check_digit(bad)


def test_make_id_reproduces_the_example_and_fixes_sequence_parity():
    assert make_id("110105", D(1949, 12, 31), 2, "F") == EXAMPLE
    assert make_id("110105", D(1949, 12, 31), 3, "F") == EXAMPLE  # odd → even (down by one)
    male = make_id("110105", D(1949, 12, 31), 2, "M")  # even → odd (up by one)
    assert male[14:17] == "003" and validate(male).sex == "M"
    assert make_id("440303", D(1990, 1, 1), 999, "M")[14:17] == "999"
    assert make_id("440303", D(1990, 1, 1), 999, "F")[14:17] == "998"
    assert make_id("440303", D(1990, 1, 1), 0, "F")[14:17] == "000"
    assert make_id("440303", D(1990, 1, 1), 0, "M")[14:17] == "001"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"area_code": "11010"}, "6 digits"),
        ({"area_code": "99xxxx"}, "6 digits"),
        ({"area_code": "990000"}, "province"),
        ({"sequence": 1000}, "0–999"),
        ({"sequence": -1}, "0–999"),
        ({"sex": "X"}, "sex"),
        ({"birth": D(1799, 12, 31)}, "1800"),
    ],
)
def test_make_id_errors(kwargs, fragment):
    args = {"area_code": "440303", "birth": D(1990, 1, 1), "sequence": 12, "sex": "M"} | kwargs
    with pytest.raises(DomainError, match=fragment):
        make_id(**args)


def test_validate_accepts_lower_case_x():
    parsed = validate(EXAMPLE.lower())
    assert parsed.normalized == EXAMPLE


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (EXAMPLE[:-1], "18 characters"),
        (EXAMPLE + "0", "18 characters"),
        (" " + EXAMPLE[1:], "digits"),
        ("1101051949123100XX", "digits"),
        ("11010519491231002Y", "last character"),
        ("99010519491231002X", "province"),
        ("110105" + "19490230" + "002" + "0", "not a valid date"),
        ("110105" + "17991231" + "002" + "0", "1800"),
        ("110105194912310021", "check character"),  # last digit mistyped
        ("11010519491231020X", "check character"),  # adjacent digits swapped (002 → 020)
        (11010519491231002, "string"),
    ],
)
def test_validate_reasons(value, fragment):
    with pytest.raises(DomainError, match=fragment):
        validate(value)
    if isinstance(value, str):
        assert not is_valid(value)


def test_validate_future_birth_date_with_as_of():
    future = make_id("440303", D(2030, 1, 1), 10, "F")
    assert validate(future).birth_date == D(2030, 1, 1)  # no clock in the domain: accepted without as_of
    with pytest.raises(DomainError, match="after 2026-01-01"):
        validate(future, as_of=D(2026, 1, 1))


def test_error_messages_do_not_echo_the_number():
    bad = EXAMPLE[:-1] + "1"
    with pytest.raises(DomainError) as err:
        validate(bad)
    assert bad not in str(err.value) and "19491231" not in str(err.value)


areas = st.builds(
    lambda prov, rest: prov + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)


@given(areas, st.dates(min_value=D(1900, 1, 1), max_value=D(2025, 12, 31)), st.integers(0, 999), st.sampled_from("MF"))
def test_property_make_then_validate_round_trips(area, birth, seq, sex):
    number = make_id(area, birth, seq, sex)
    assert len(number) == 18
    parsed = validate(number)
    assert (parsed.area, parsed.birth_date, parsed.sex) == (area, birth, sex)
    assert abs(parsed.sequence - seq) <= 1


@given(areas, st.dates(min_value=D(1900, 1, 1), max_value=D(2025, 12, 31)), st.integers(0, 999), st.sampled_from("MF"),
       st.integers(0, 16), st.integers(1, 9))
def test_property_any_single_digit_error_is_detected(area, birth, seq, sex, pos, delta):
    number = make_id(area, birth, seq, sex)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1:]
    assert not is_valid(wrong)
