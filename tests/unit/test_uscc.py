import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import uscc

KNOWN_VALID = ["91350100M000100Y43", "91110000101623741K", "911101066976941872"]
first17 = st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes_pass(code):
    assert uscc.validate(code) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9135 0100-M000 100Y43", "91350100M000100Y43"),
        ("91350100m000100y43", "91350100M000100Y43"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full-width
    ],
)
def test_normalisation_before_the_check(raw, expected):
    assert uscc.validate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100M0001I0Y43", "not allowed"),
        ("", "18 characters"),
    ],
)
def test_malformed_codes_say_why(raw, message):
    with pytest.raises(uscc.InvalidUscc, match=message):
        uscc.validate(raw)


@given(first17)
def test_made_codes_always_validate(prefix):
    assert uscc.validate(uscc.make(prefix)) == uscc.make(prefix)


@given(first17, st.integers(0, 16), st.sampled_from(uscc.ALPHABET))
def test_any_single_substitution_is_caught(prefix, position, replacement):
    code = uscc.make(prefix)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        with pytest.raises(uscc.InvalidUscc):
            uscc.validate(changed)
