import json

from shared.ingress.entrypoint import MAX_REASON_BYTES, OMITTED, rejection_reason


def test_a_reason_is_the_field_errors_as_json():
    errors = {"data.uscc": ["not a valid USCC: check character"]}
    assert json.loads(rejection_reason(errors)) == errors


def test_a_huge_reason_is_cut_to_fit_a_header_and_stays_json():
    errors = {"x" * 200_000: ["Unknown field."], "data.year": ["Missing data for required field."]}
    errors |= {f"data.extra_{n}": ["Unknown field." * 50] for n in range(500)}
    reason = rejection_reason(errors)
    assert len(reason.encode()) <= MAX_REASON_BYTES + 100
    cut = json.loads(reason)
    assert "x" * 256 in cut and "x" * 257 not in cut
    assert "data.year" in cut
    assert cut[OMITTED] == [
        f"{len(errors) - len(cut) + 1} of {len(errors)} fields' errors left out"
    ]
