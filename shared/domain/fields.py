"""marshmallow fields and validators for the domain's identifiers and dates."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.domain import clock, codes, units, uscc

MAX_TEXT = 500
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not \d: it takes any script's digits
MAX_COUNT = 2**53 - 1  # the largest integer every JSON reader keeps exactly; fits MongoDB's int64


class Uscc(fields.String):
    """A USCC, normalised, with its check character verified."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return uscc.validate(raw)
        except uscc.InvalidUscc as exc:
            raise ValidationError(f"invalid USCC: {exc}") from None


class RegionCode(fields.String):
    """A 6-digit GB/T 2260 code inside Jilin that routes to one of the units."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            units.unit_for(code)
        except units.UnknownRegion as exc:
            raise ValidationError(f"invalid region code: {exc}") from None
        return code


class FullMatch(validate.Regexp):
    """marshmallow's Regexp over the whole text: its `re.match` with a `$` also takes a trailing
    newline. The pattern stays `^...$` for the OpenAPI documents (JSON Schema has no `\\Z`)."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def identifier(**kwargs: Any) -> fields.String:
    """An id that is safe as a field name (incubator ids, round ids)."""
    return fields.String(
        validate=FullMatch(codes.IDENTIFIER, error=codes.IDENTIFIER_RULE), **kwargs
    )


class QueryInteger(fields.Integer):
    """A whole number in a query string, written 0-9: `int()` alone also reads "５０" or "٥٠"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not codes.is_digits(value):
            raise ValidationError("must be a whole number written with the digits 0-9")
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """A non-empty string of bounded length."""

    def __init__(self, max_length: int = MAX_TEXT, **kwargs: Any):
        # Declared as a validator too, so the OpenAPI documents show the limit.
        limit = validate.Length(max=max_length, error=f"longer than {max_length} characters")
        super().__init__(validate=limit, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("must not be empty")
        return text


class IsoDate(fields.Date):
    """A date written YYYY-MM-DD, as CONTRACT.md says (Python alone would also read 20150101)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise ValidationError("must be a date written YYYY-MM-DD")
        return super()._deserialize(value, attr, data, **kwargs)


class PastDate(IsoDate):
    """An ISO date that is not after today."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if day > clock.today():
            raise ValidationError(f"{day.isoformat()} is in the future")
        return day


class StrictBoolean(fields.Boolean):
    """JSON true or false only: not 1, "yes" or "true" (1 == True in Python sets)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class Number(fields.Float):
    """A JSON number only: not "100" or true, which marshmallow would turn into 100.0 and 1.0."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a JSON number")
        return super()._deserialize(value, attr, data, **kwargs)


def money(**kwargs: Any) -> fields.Float:
    """A non-negative amount (yuan unless a currency field says otherwise)."""
    return Number(validate=validate.Range(min=0), allow_nan=False, **kwargs)


def count(**kwargs: Any) -> fields.Integer:
    """A non-negative whole number, given as a JSON integer, small enough to store exactly."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_COUNT), **kwargs)


def flag(**kwargs: Any) -> fields.Boolean:
    return StrictBoolean(**kwargs)


class StrictSchema(Schema):
    """Unknown fields are errors, named by the field: input with a field the contract does not
    define (say `$where`) is refused, never stored."""

    class Meta:
        unknown = RAISE
