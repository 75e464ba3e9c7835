"""The contract's codes and numbers are ASCII (issue #17, item 6). Digits of other scripts,
full-width, superscript or circled forms are refused, naming the field; only the USCC has its
full-width forms folded, as DOMAIN.md says, and nothing else that NFKC would fold."""

import json
import unicodedata
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from marshmallow import ValidationError

from services.incubators.schemas import FirmAdmitted, IncubatorRegistered
from services.notifications.schemas import InboxQuery
from services.registry.schemas import EnterpriseQuery, EnterpriseRegistered, FundingRound
from services.registry.storage import page_filter
from services.tiering.rules.ruleset import InvalidRuleSet, parse_ruleset
from services.tiering.schemas import WatchlistQuery
from shared.domain import uscc
from shared.envelope import CloudEvent, InvalidEvent, load_data
from shared.http import Problem, path_uscc
from tests.support.events import admission, funding_round, incubator, jilin_uscc, registration
from tools.cli import build_parser

A = "JL-INC-0001"
KNOWN_VALID = ["91350100M000100Y43", "91110000101623741K", "911101066976941872"]  # DOMAIN.md
REGION_CODES = ["220102", "220581", "222401", "220381", "220621"]

# Digits that are not ASCII: full-width, superscript, circled, other scripts' (Arabic-Indic,
# Devanagari, Thai, mathematical bold), then anything Unicode files as a decimal or other digit.
NOT_ASCII_DIGITS = st.one_of(
    st.sampled_from("０５９²³¹①⑨⓪٣۴५๒𝟏"),
    st.characters(categories=["Nd", "No"], min_codepoint=0x80),
)


def data_errors(schema, data):
    """The field errors of an event's `data`, as ingress and `POST /v1/events` report them."""
    event = CloudEvent("e-1", "/test", "test.event", datetime.now(UTC), data)
    with pytest.raises(InvalidEvent) as caught:
        load_data(event, schema())
    return caught.value.errors


def replace(text, position, char):
    return text[:position] + char + text[position + 1 :]


@given(st.sampled_from(REGION_CODES), st.integers(0, 5), NOT_ASCII_DIGITS)
@example("220102", 4, "０")  # 2201０2: routed to 长春 before
@example("220102", 4, "²")
def test_a_region_code_with_a_digit_beyond_ascii_is_refused_naming_the_field(code, position, digit):
    written = replace(code, position, digit)
    for schema, data in (
        (EnterpriseRegistered, registration(region_code=written)),
        (IncubatorRegistered, incubator(A, region_code=written)),
    ):
        message = data_errors(schema, data)["data.region_code"][0]
        assert "must be 6 digits 0-9" in message and f"U+{ord(digit):04X}" in message


@cache
def lookalikes():
    """Characters beyond ASCII, full-width forms aside, that read as one code character: NFKC
    (then upper-casing) folds them into it (², ①, Ⅹ, 𝐀, ª), or it is their digit value (٣)."""
    found = defaultdict(list)
    for point in range(0x80, 0x20000):
        char = chr(point)
        if 0xFF01 <= point <= 0xFF5E or unicodedata.category(char) in ("Cs", "Cn"):
            continue
        folded = unicodedata.normalize("NFKC", char).upper()
        value = unicodedata.decimal(char, None)
        for read in {folded, str(value) if value is not None else ""}:
            if len(read) == 1 and read in uscc.ALPHABET:
                found[read].append(char)
    return found


def valid_codes():
    return st.one_of(
        st.sampled_from(KNOWN_VALID),
        st.builds(jilin_uscc, st.integers(1, 10**9 - 1), st.sampled_from(REGION_CODES)),
        st.text(uscc.ALPHABET, min_size=17, max_size=17).map(uscc.make),
    )


def as_domain_allows(char):
    """A code character as DOMAIN.md's normalisation takes it back: itself or its full-width
    form, in either case, and perhaps a space or hyphen (ASCII, ideographic, full-width) after."""
    forms = {char, chr(ord(char) + 0xFEE0), char.lower(), chr(ord(char.lower()) + 0xFEE0)}
    separators = ["", " ", "-", "\t", "\u3000", "\uff0d"]
    return st.tuples(st.sampled_from(sorted(forms)), st.sampled_from(separators)).map("".join)


@given(valid_codes(), st.data())
def test_a_uscc_is_normalised_exactly_as_domain_says_and_a_lookalike_is_refused(code, data):
    written = [data.draw(as_domain_allows(char)) for char in code]
    assert uscc.validate("".join(written)) == path_uscc("".join(written)) == code

    position = data.draw(st.integers(0, 17))
    lookalike = data.draw(st.sampled_from(lookalikes()[code[position]]))
    written[position] = lookalike
    disguised = "".join(written)
    message = data_errors(FirmAdmitted, admission(A, disguised))["data.uscc"][0]
    assert "not allowed in a USCC" in message and f"U+{ord(lookalike):04X}" in message
    with pytest.raises(Problem) as caught:
        path_uscc(disguised)
    assert caught.value.status == 400 and "not allowed" in caught.value.errors["uscc"][0]


@pytest.mark.parametrize(("pair", "ligature"), [("FL", "ﬂ"), ("FF", "ﬀ")])
def test_a_compatibility_ligature_is_not_two_code_characters(pair, ligature):
    code = uscc.make(f"91220101MA0{pair}0000")
    with pytest.raises(uscc.InvalidUscc, match=f"U\\+{ord(ligature):04X}"):
        uscc.validate(code.replace(pair, ligature))


@given(st.sampled_from([0, 1, 2, 3, 5, 6, 8, 9]), NOT_ASCII_DIGITS)
def test_a_date_with_a_digit_beyond_ascii_is_refused_as_not_yyyy_mm_dd(position, digit):
    written = replace("2020-01-15", position, digit)
    errors = data_errors(FirmAdmitted, admission(A, jilin_uscc(), admitted_on=written))
    assert errors["data.admitted_on"] == ["must be a date written YYYY-MM-DD"]


@given(
    st.sampled_from([EnterpriseQuery, WatchlistQuery, InboxQuery]),
    st.text(
        st.one_of(NOT_ASCII_DIGITS, st.sampled_from("0123456789")), min_size=1, max_size=3
    ).filter(lambda text: not text.isascii()),
)
@example(EnterpriseQuery, "５０")
def test_a_query_limit_written_with_digits_beyond_ascii_is_refused(schema, limit):
    with pytest.raises(ValidationError) as caught:
        schema().load({"limit": limit})
    assert caught.value.messages == {
        "limit": ["must be a whole number written with the digits 0-9"]
    }


@given(st.integers(0, 5), NOT_ASCII_DIGITS)
def test_the_registrys_unit_query_takes_only_unit_codes_and_the_province_covers_all(
    position, digit
):
    with pytest.raises(ValidationError) as caught:
        EnterpriseQuery().load({"unit": replace("220100", position, digit)})
    assert set(caught.value.messages) == {"unit"}
    assert page_filter(EnterpriseQuery().load({"unit": "220100"})) == {"unit": "220100"}
    assert page_filter(EnterpriseQuery().load({"unit": "220000"})) == {}


@pytest.mark.parametrize(
    ("schema", "field", "data"),
    [
        (FirmAdmitted, "incubator_id", lambda ident: admission(ident, jilin_uscc())),
        (FundingRound, "round_id", lambda ident: funding_round(jilin_uscc(), ident)),
    ],
)
@given(written=st.one_of(st.just("A-1\n"), NOT_ASCII_DIGITS.map(lambda d: f"A-{d}")))
@example(written="A-1\n")  # `$` in re.match takes a trailing newline
def test_an_id_is_ascii_through_to_its_end(schema, field, data, written):
    errors = data_errors(schema, data(written))
    assert errors[f"data.{field}"] == ["must be 1-64 ASCII letters, digits, _ or -"]


@given(NOT_ASCII_DIGITS)
def test_a_rule_set_region_prefix_is_ascii_digits(digit):
    text = f"id: t\nversion: 1\nregions: {json.dumps(['2' + digit], ensure_ascii=False)}\n"
    text += "tiers: [{code: gold, rank: 1, all: [{measure: age, op: le, value: 3}]}]\n"
    with pytest.raises(InvalidRuleSet) as caught:
        parse_ruleset(text)
    assert "regions" in caught.value.errors
    assert parse_ruleset(text.replace("2" + digit, "22")).regions == ("22",)


@pytest.mark.parametrize("incubator_id", ["JL-INC-０００1", "JL-INC-0001\n", "JL-INC-²"])
def test_no_key_is_issued_for_an_incubator_id_no_event_can_carry(incubator_id, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["keys", "issue", "--incubator", incubator_id])
    assert "ASCII letters, digits" in capsys.readouterr().err
    assert build_parser().parse_args(["keys", "issue", "--incubator", A]).incubator == A
