"""Incubator rule sets: the policy numbers behind incubators' findings, as versioned data (YAML)
loaded and validated at start, with errors that name the path (`graduation.investment_above`).

Numbers are exact: a YAML number or a decimal text becomes a `Fraction` of its decimal text, so
5,000,000.00 yuan is exactly the bar, not a float a hair above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.domain.carriers import GRADES, TRACKS
from shared.envelope import flatten_errors

LISTINGS = ("neeq", "listed")
RULESET_ID = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$", error="must be 1-64 of a-z, 0-9, -")


class InvalidRules(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class Exact(fields.Field):
    """A number written in YAML (or as decimal text), kept as the exact fraction it says."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValidationError("must be a number")
        try:
            number = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
        except (ValueError, ZeroDivisionError):
            raise ValidationError("must be a number") from None
        if number < 0:
            raise ValidationError("must not be negative")
        return number


def share(**kwargs: Any) -> Exact:
    return Exact(
        validate=validate.Range(min=0, max=1, error="must be a share from 0 to 1"), **kwargs
    )


def months(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=600), **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class AdmissionSchema(Strict):
    window_months = months(required=True)


class IncubationSchema(Strict):
    limit_months = months(required=True)
    long_tracks = fields.List(fields.String(validate=validate.OneOf(TRACKS)), required=True)
    long_track_limit_months = months(required=True)


class GraduationSchema(Strict):
    certificate_years = fields.Integer(strict=True, required=True, validate=validate.Range(1, 10))
    investment_above = Exact(required=True)
    two_year_revenue_above = Exact(required=True)
    listings = fields.List(fields.String(validate=validate.OneOf(LISTINGS)), required=True)


class NationalSchema(Strict):
    grades = fields.List(fields.String(validate=validate.OneOf(GRADES)), required=True)
    remote_regions = fields.List(fields.String(validate=validate.Length(2, 32)), required=True)
    remote_reduction = share(required=True)
    area_m2 = Exact(required=True)
    incubatee_area_share = share(required=True)
    fund = Exact(required=True)
    incubatees = Exact(required=True)
    incubatees_per_1000_m2 = Exact(required=True)
    graduates = Exact(required=True)
    incubatees_per_staff = Exact(required=True, validate=validate.Range(min=1))
    incubatees_per_mentor = Exact(required=True, validate=validate.Range(min=1))
    patent_applications_share = share(required=True)
    valid_ip_share = share(required=True)


class RulesSchema(Strict):
    id = fields.String(required=True, validate=RULESET_ID)
    version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    title = fields.String(required=True, validate=validate.Length(1, 200))
    usd_cny = Exact(required=True, validate=validate.Range(min=Fraction(1, 1000)))
    admission = fields.Nested(AdmissionSchema, required=True)
    incubation = fields.Nested(IncubationSchema, required=True)
    graduation = fields.Nested(GraduationSchema, required=True)
    national_thresholds = fields.Nested(NationalSchema, required=True)


@dataclass(frozen=True)
class NationalThresholds:
    grades: tuple[str, ...]
    remote_regions: tuple[str, ...]  # region code prefixes or zones whose carriers are remote
    remote_reduction: Fraction
    area_m2: Fraction
    incubatee_area_share: Fraction
    fund: Fraction
    incubatees: Fraction
    incubatees_per_1000_m2: Fraction
    graduates: Fraction
    incubatees_per_staff: Fraction
    incubatees_per_mentor: Fraction
    patent_applications_share: Fraction
    valid_ip_share: Fraction

    def remote(self, carrier: dict[str, Any]) -> bool:
        zone, region = carrier.get("zone"), carrier.get("region_code") or ""
        return zone in self.remote_regions or any(
            region.startswith(prefix) for prefix in self.remote_regions
        )


@dataclass(frozen=True)
class IncubatorRules:
    id: str
    version: int
    title: str
    usd_cny: Fraction
    admission_window_months: int
    limit_months: int
    long_tracks: tuple[str, ...]
    long_track_limit_months: int
    certificate_years: int  # a certificate reported for G-(n-1)..G supports graduating in G
    investment_above: Fraction
    two_year_revenue_above: Fraction
    listings: tuple[str, ...]
    national: NationalThresholds
    source: str = ""

    @property
    def label(self) -> str:
        """How findings name the rule set they were made under."""
        return f"{self.id}@{self.version}"

    def limit_for(self, track: str | None) -> int:
        return self.long_track_limit_months if track in self.long_tracks else self.limit_months


def parse_rules(text: str) -> IncubatorRules:
    """A rule set from its YAML text, or InvalidRules naming every bad path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRules({"_yaml": [f"not valid YAML: {exc}"]}) from None
    if not isinstance(document, dict):
        raise InvalidRules({"_schema": ["must be a mapping"]})
    try:
        loaded = RulesSchema().load(document)
    except ValidationError as exc:
        raise InvalidRules(flatten_errors(exc.messages)) from None
    national = loaded["national_thresholds"]
    return IncubatorRules(
        id=loaded["id"],
        version=loaded["version"],
        title=loaded["title"],
        usd_cny=loaded["usd_cny"],
        admission_window_months=loaded["admission"]["window_months"],
        limit_months=loaded["incubation"]["limit_months"],
        long_tracks=tuple(loaded["incubation"]["long_tracks"]),
        long_track_limit_months=loaded["incubation"]["long_track_limit_months"],
        certificate_years=loaded["graduation"]["certificate_years"],
        investment_above=loaded["graduation"]["investment_above"],
        two_year_revenue_above=loaded["graduation"]["two_year_revenue_above"],
        listings=tuple(loaded["graduation"]["listings"]),
        national=NationalThresholds(
            **{
                **national,
                "grades": tuple(national["grades"]),
                "remote_regions": tuple(national["remote_regions"]),
            }
        ),
        source=text,
    )
