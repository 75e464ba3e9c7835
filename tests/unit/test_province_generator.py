"""The generator is deterministic and its events pass the project's own schemas, except the
ones meant to be bad, which fail for the reasons its ground truth counts."""

import json
from collections import Counter

from services.incubators.schemas import EVENT_SCHEMAS as INCUBATOR_SCHEMAS
from services.registry.schemas import (
    AnnualReport,
    EnterpriseRegistered,
    FundingRound,
    StatusChanged,
)
from shared.envelope import InvalidEvent, load_data, parse_envelope, parse_json
from tools.province.generator import Generator
from tools.province.truth import expected_tier

SCHEMAS = {
    "enterprise.registered": EnterpriseRegistered,
    "enterprise.annual_report": AnnualReport,
    "enterprise.funding_round": FundingRound,
    "enterprise.status_changed": StatusChanged,
    **INCUBATOR_SCHEMAS,
}


def province(seed=11):
    return Generator(seed, firms=400, carriers=10, incubated=200).generate()


def test_same_seed_same_province_and_another_seed_another():
    first, again, other = province(), province(), province(12)
    assert first.enterprise_events == again.enterprise_events
    assert first.incubator_phases == again.incubator_phases and first.truth == again.truth
    assert first.enterprise_events != other.enterprise_events


def test_every_event_passes_the_schemas_except_those_meant_to_be_bad():
    generated = province()
    reasons: Counter = Counter()
    events = [
        *generated.enterprise_events,
        *(e for phase in generated.incubator_phases for e in phase),
    ]
    for raw in events:
        try:
            body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
            event = parse_envelope(parse_json(body))
            load_data(event, SCHEMAS[event.type]())
        except InvalidEvent as exc:
            reasons.update(exc.errors.keys())
    assert dict(reasons) == generated.truth["rejections"]
    assert sum(generated.truth["rejections"].values()) >= 4


def test_the_province_has_the_shapes_the_plan_talks_about():
    truth = Generator(3, firms=2000, carriers=350, incubated=1000).generate().truth
    assert truth["tier_counts"]["unicorn"] >= 5 and truth["tier_counts"]["gazelle"] > 0
    assert truth["carriers_per_unit"]["220100"] == max(truth["carriers_per_unit"].values())
    assert len(truth["carriers_per_unit"]) == 12
    assert set(truth["incubations"]) == {"current", "graduated", "exited"}
    assert truth["late_admissions"] > 0 and truth["overdue_as_of_reference_day"] > 0


def test_the_independent_truth_agrees_with_the_domain_boundaries():
    profile = {"region_code": "220102", "founded_on": "2015-01-01"}
    reports = {
        y: {
            "revenue": 2e7 * 1.2 ** (y - 2021),
            "rd_expense": 1e6,
            "employees": 10,
            "invention_patents": 0,
            "other_ip": 0,
            "high_tech_certified": False,
            "tech_sme_listed": False,
            "award": False,
        }
        for y in range(2021, 2025)
    }
    reports = {y: r | {"revenue": round(r["revenue"], 2)} for y, r in reports.items()}
    assert expected_tier(profile, reports, []) == "gazelle"
    assert expected_tier(profile | {"entity_kind": "branch"}, reports, []) == "none"
