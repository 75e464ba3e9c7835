import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.domain import uscc

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
    assume(replacement != code[position])
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(uscc.InvalidUscc):
        uscc.validate(changed)


FAILING = "912201010000000011"  # well formed; its check character should be 0
APPROVAL = {
    "uscc": FAILING,
    "reason": "issued before the check was enforced (SAMR record 2019-123)",
    "approved_by": "Wang Li, provincial S&T department",
    "approved_on": "2026-11-29",
}


@pytest.fixture
def approvals():
    yield uscc.install_overrides
    uscc.install_overrides({})


def test_a_code_failing_the_check_is_accepted_only_once_approved(approvals, caplog):
    with pytest.raises(uscc.InvalidUscc, match="check character"):
        uscc.validate(FAILING)
    approvals(uscc.parse_overrides([APPROVAL]))
    with caplog.at_level("INFO", logger="shared.domain.uscc"):
        assert uscc.validate(f" {FAILING[:6]}-{FAILING[6:]} ") == FAILING
    assert "approved by Wang Li, provincial S&T department on 2026-11-29" in caplog.text
    with pytest.raises(uscc.InvalidUscc, match="must be 18 characters"):
        uscc.validate(FAILING[:17])  # only the check can be overridden
    assert uscc.parse_overrides([APPROVAL])  # an installed approval is still one to read


def test_approvals_are_read_from_yaml_text():
    text = "\n".join(
        f"- {k}: '{v}'" if k == "uscc" else f"  {k}: '{v}'" for k, v in APPROVAL.items()
    )
    assert uscc.parse_overrides(text)[FAILING].approved_by == APPROVAL["approved_by"]
    assert uscc.parse_overrides("[]") == uscc.parse_overrides(None) == {}
    with pytest.raises(uscc.InvalidOverrides, match="USCC_OVERRIDES: not YAML"):
        uscc.parse_overrides("- uscc: [unclosed")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({**APPROVAL, "reason": " "}, r"USCC_OVERRIDES\[0\]: reason missing"),
        ({**APPROVAL, "approved_on": "yesterday"}, r"\[0\]\.approved_on: not a YYYY-MM-DD date"),
        ({**APPROVAL, "uscc": "912201010000000010"}, r"\[0\]\.uscc: .* passes the check"),
        ({**APPROVAL, "uscc": "91220101000000001I"}, r"\[0\]\.uscc: characters not allowed"),
        ("912201010000000011", r"USCC_OVERRIDES\[0\]: must be a mapping"),
    ],
)
def test_an_unusable_approval_is_refused_naming_the_entry_and_field(entry, problem):
    with pytest.raises(uscc.InvalidOverrides, match=problem):
        uscc.parse_overrides([entry])
