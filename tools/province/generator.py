"""`tracker demo generate`: a deterministic synthetic province (same seed, same events).

Scale and shape follow DOMAIN.md's baselines: 21,000 registered technology SMEs with four years
of annual reports (some years missing), ~17% high-tech certified, 长春 holding about half; 350
carriers over the 12 units; 10,000+ incubated firms over their life cycles (graduations on each
basis, exits, some overdue, some admitted late); funding in CNY and USD; firms placed on tier
boundaries and a handful of unicorns; and ~1% bad events (bad USCCs, impossible dates),
duplicates and out-of-order arrivals. Every USCC is valid unless it is meant to be bad.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.domain import uscc
from shared.domain.dates import add_months
from shared.domain.units import unit_for
from tools.province.truth import expected_tier, graduation_supported

REFERENCE_DAY = date(2025, 11, 30)  # the generated world's "today": fixed, so runs repeat
YEARS = (2021, 2022, 2023, 2024)
UNIT_SHARE = {  # unit: (share of firms and carriers, region codes used)
    "220100": (0.50, ["220102", "220104", "220105", "220106", "220112", "220184", "220381"]),
    "220200": (0.12, ["220202", "220203", "220204", "220211"]),
    "220300": (0.05, ["220302", "220303", "220322"]),
    "220400": (0.03, ["220402", "220403"]),
    "220500": (0.05, ["220502", "220503", "220582"]),
    "220600": (0.03, ["220602", "220605"]),
    "220700": (0.04, ["220702", "220721"]),
    "220800": (0.03, ["220802", "220881"]),
    "222400": (0.07, ["222401", "222402", "222403"]),
    "220581": (0.02, ["220581"]),
    "changbaishan": (0.02, ["220621", "220622"]),
    "changchun_new_area": (0.04, ["220102", "220173"]),
}
INDUSTRIES = [
    "photonics",
    "new_materials",
    "biomedicine",
    "ic_design",
    "software",
    "agri_tech",
    "auto_parts",
    "energy",
    "equipment",
    "testing",
]
GRADES = [
    ("municipal", 0.38),
    ("provincial", 0.42),
    ("national", 0.12),
    ("national_standard", 0.05),
    ("national_excellent", 0.03),
]
KINDS = [("incubator", 0.45), ("maker_space", 0.45), ("incubation_base", 0.10)]


@dataclass
class Province:
    enterprise_events: list[dict[str, Any] | bytes] = field(default_factory=list)
    carriers: list[dict[str, Any]] = field(default_factory=list)
    incubator_phases: list[list[dict[str, Any]]] = field(default_factory=lambda: [[], [], []])
    truth: dict[str, Any] = field(default_factory=dict)


class Generator:
    def __init__(self, seed: int, firms: int, carriers: int, incubated: int):
        self.rng = random.Random(seed)
        self.n_firms, self.n_carriers, self.n_incubated = firms, carriers, incubated
        self.serial = 0
        self.clock = datetime(2025, 1, 1, tzinfo=UTC)

    # helpers --------------------------------------------------------------------------------
    def pick(self, weighted: list[tuple[str, float]]) -> str:
        return self.rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]

    def unit(self) -> str:
        return self.rng.choices(list(UNIT_SHARE), [s for s, _ in UNIT_SHARE.values()])[0]

    def event(self, event_type: str, data: dict[str, Any], source: str) -> dict[str, Any]:
        self.clock += timedelta(seconds=1)
        return {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "source": source,
            "type": event_type,
            "time": self.clock.isoformat(),
            "data": data,
        }

    def code(self, region: str) -> str:
        self.serial += 1
        return uscc.make(f"91{region}{self.serial:09d}")

    # firms ----------------------------------------------------------------------------------
    def firm(self) -> dict[str, Any]:
        unit = self.unit()
        region = self.rng.choice(UNIT_SHARE[unit][1])
        founded_year = min(2023, int(2024 - self.rng.expovariate(1 / 5)))
        founded = date(founded_year, self.rng.randint(1, 12), self.rng.randint(1, 28))
        profile = {
            "uscc": self.code(region),
            "name": f"吉林测试科技{self.serial:05d}有限公司",
            "region_code": region,
            "industry": self.rng.choice(INDUSTRIES),
            "founded_on": founded.isoformat(),
        }
        if unit in ("changbaishan", "changchun_new_area"):
            profile["zone"] = unit
        if self.rng.random() < 0.02:
            profile["entity_kind"] = "branch"
        roll = self.rng.random()
        profile["listing"] = "listed" if roll < 0.01 else "neeq" if roll < 0.03 else "unlisted"
        return profile

    def reports(self, profile: dict[str, Any], shape: str) -> dict[int, dict[str, Any]]:
        founded = int(profile["founded_on"][:4])
        years = [y for y in YEARS if y >= founded]
        revenue = self.rng.lognormvariate(15.4, 1.3)  # median about 5 million yuan
        growth = self.rng.gauss(0.12, 0.15)
        employees = max(3, int(self.rng.lognormvariate(3.3, 0.8)))
        roll = self.rng.random()  # high-tech certified from a year on: about 12% more a year
        certified_from = next(
            (
                year
                for year, share in ((2021, 0.12), (2022, 0.135), (2023, 0.152), (2024, 0.171))
                if roll < share
            ),
            None,
        )
        out = {}
        for index, year in enumerate(years):
            if shape in ("gazelle_edge", "below_edge", "watch") and len(years) == 4:
                rate = {"gazelle_edge": 0.20, "below_edge": 0.199, "watch": 0.18}[shape]
                revenue = 20_000_000 * (1 + rate) ** index
            elif index:
                revenue *= 1 + growth + self.rng.gauss(0, 0.05)
            rd_share = 0.03 if shape != "none" else self.rng.uniform(0.005, 0.08)
            out[year] = {
                "uscc": profile["uscc"],
                "year": year,
                "revenue": round(max(revenue, 0), 2),
                "rd_expense": round(max(revenue, 0) * rd_share, 2),
                "employees": employees + index * self.rng.randint(0, 5),
                "invention_patents": self.rng.choice([0, 0, 0, 1, 2, 3]),
                "other_ip": self.rng.choice([0, 1, 2, 4]),
                "high_tech_certified": certified_from is not None and year >= certified_from,
                "tech_sme_registered": True,
                "tech_sme_listed": self.rng.random() < 0.3,
                "award": self.rng.random() < 0.02,
            }
        if len(out) == 4 and shape == "none" and self.rng.random() < 0.05:
            del out[self.rng.choice([2021, 2022, 2023])]  # a missing year
        return out

    def rounds(self, profile: dict[str, Any], shape: str) -> list[dict[str, Any]]:
        if shape == "unicorn":
            return [
                {
                    "uscc": profile["uscc"],
                    "round_id": "C-1",
                    "date": "2024-09-01",
                    "amount": 150_000_000,
                    "currency": "USD",
                    "post_money_valuation": self.rng.choice([1.0e9, 1.2e9, 2.5e9]),
                    "investors": ["红杉中国"],
                }
            ]
        if self.rng.random() > 0.15:
            return []
        out = []
        for n in range(self.rng.randint(1, 3)):
            currency = "USD" if self.rng.random() < 0.2 else "CNY"
            amount = round(self.rng.lognormvariate(16, 1.2) / (7.2 if currency == "USD" else 1))
            out.append(
                {
                    "uscc": profile["uscc"],
                    "round_id": f"R{n + 1}",
                    "date": f"{self.rng.choice(YEARS)}-{self.rng.randint(1, 12):02d}-15",
                    "amount": amount,
                    "currency": currency,
                    "post_money_valuation": amount * self.rng.randint(4, 12),
                    "investors": [],
                }
            )
        return out

    # carriers and incubation ----------------------------------------------------------------
    def carrier(self, index: int) -> dict[str, Any]:
        unit = self.unit()
        kind = self.pick(KINDS)
        data = {
            "incubator_id": f"JL-INC-{index:04d}",
            "name": f"吉林孵化载体{index:04d}",
            "kind": kind,
            "grade": self.pick(GRADES),
            "region_code": self.rng.choice(UNIT_SHARE[unit][1]),
            "area_m2": float(self.rng.randint(2_000, 40_000)),
            "recognised_on": f"{self.rng.randint(2012, 2023)}-0{self.rng.randint(1, 9)}-01",
        }
        if unit in ("changbaishan", "changchun_new_area"):
            data["zone"] = unit
        return data

    def generate(self) -> Province:
        province = Province()
        shapes = ["unicorn"] * 5 + ["gazelle_edge"] * 6 + ["below_edge"] * 6 + ["watch"] * 6
        firms = []
        for index in range(self.n_firms):
            shape = shapes[index] if index < len(shapes) else "none"
            profile = self.firm()
            if shape != "none":
                profile |= {
                    "founded_on": "2017-03-01",
                    "entity_kind": "independent",
                    "listing": "unlisted",
                }
            firms.append((profile, self.reports(profile, shape), self.rounds(profile, shape)))
        self.enterprise_events(province, firms)
        self.incubation(province, firms)
        province.truth |= self.tier_truth(firms)
        return province

    def enterprise_events(self, province: Province, firms: list) -> None:
        samr, events = "/samr/jilin", []
        for profile, reports, rounds in firms:
            events.append(self.event("enterprise.registered", profile, samr))
            events += [self.event("enterprise.annual_report", r, samr) for r in reports.values()]
            events += [self.event("enterprise.funding_round", r, samr) for r in rounds]
        valid = len(events)
        bad = max(3, len(events) // 100)
        rejections: Counter = Counter()
        for n in range(bad):
            profile = dict(self.rng.choice(firms)[0])
            kind = n % 3
            if kind == 0:
                wrong = "0" if profile["uscc"][17] != "0" else "1"
                profile["uscc"] = profile["uscc"][:17] + wrong
                rejections["data.uscc"] += 1
            elif kind == 1:
                profile |= {"uscc": self.code(profile["region_code"]), "founded_on": "2099-01-01"}
                rejections["data.founded_on"] += 1
            else:
                profile |= {"uscc": self.code(profile["region_code"])}
                events.append(
                    self.event(
                        "enterprise.annual_report",
                        {
                            "uscc": profile["uscc"],
                            "year": 2099,
                            "revenue": 1,
                            "rd_expense": 0,
                            "employees": 1,
                            "invention_patents": 0,
                            "other_ip": 0,
                            "high_tech_certified": False,
                            "tech_sme_registered": True,
                            "tech_sme_listed": False,
                            "award": False,
                        },
                        samr,
                    )
                )
                rejections["data.year"] += 1
                continue
            events.append(self.event("enterprise.registered", profile, samr))
        events.append(b"{this is not json")
        rejections["body"] += 1
        duplicates = self.rng.sample(range(valid), max(1, valid // 200))
        events += [events[i] for i in duplicates]
        # Out of order: a share of annual reports go before everything else.
        early = [
            i
            for i, e in enumerate(events)
            if isinstance(e, dict)
            and e["type"] == "enterprise.annual_report"
            and self.rng.random() < 0.05
        ]
        moved = set(early)
        province.enterprise_events = [events[i] for i in early] + [
            e for i, e in enumerate(events) if i not in moved
        ]
        province.truth["rejections"] = dict(rejections)
        province.truth["duplicates"] = len(duplicates)

    def incubation(self, province: Province, firms: list) -> None:
        carriers = [self.carrier(i + 1) for i in range(self.n_carriers)]
        province.carriers = carriers
        admit, end, report = province.incubator_phases
        for carrier in carriers:
            admit.append(
                self.event(
                    "incubator.registered", carrier, f"/incubators/{carrier['incubator_id']}"
                )
            )
        counts: Counter = Counter()
        late_admissions = overdue = unsupported = 0
        # Incubators take young firms: draw from the most recently founded.
        youngest = sorted(range(len(firms)), key=lambda i: firms[i][0]["founded_on"], reverse=True)[
            : max(self.n_incubated, int(len(firms) * 0.6))
        ]
        chosen = self.rng.sample(youngest, min(self.n_incubated, len(youngest)))
        per_carrier: Counter = Counter()
        for index in chosen:
            profile, reports, rounds = firms[index]
            carrier = self.rng.choice(carriers)
            founded = date.fromisoformat(profile["founded_on"])
            admitted = min(
                founded + timedelta(days=self.rng.randint(10, 900)),
                REFERENCE_DAY - timedelta(days=30),
            )
            roll = self.rng.random()
            if admitted > add_months(founded, 24):
                late_admissions += 1
            track = self.rng.choice([None] * 8 + ["biomedicine", "ic_design"])
            source = f"/incubators/{carrier['incubator_id']}"
            data = {
                "incubator_id": carrier["incubator_id"],
                "uscc": profile["uscc"],
                "admitted_on": admitted.isoformat(),
            }
            if track:
                data["track"] = track
            admit.append(self.event("incubator.firm_admitted", data, source))
            per_carrier[carrier["incubator_id"]] += 1
            ended = min(admitted + timedelta(days=self.rng.randint(200, 1400)), REFERENCE_DAY)
            if roll < 0.35:
                basis = self.graduation_basis(reports, rounds)
                unsupported += not graduation_supported(
                    basis, ended.isoformat(), profile, reports, rounds
                )
                end.append(
                    self.event(
                        "incubator.firm_graduated",
                        {
                            "incubator_id": carrier["incubator_id"],
                            "uscc": profile["uscc"],
                            "graduated_on": ended.isoformat(),
                            "basis": basis,
                        },
                        source,
                    )
                )
                counts["graduated"] += 1
            elif roll < 0.50:
                end.append(
                    self.event(
                        "incubator.firm_exited",
                        {
                            "incubator_id": carrier["incubator_id"],
                            "uscc": profile["uscc"],
                            "exited_on": ended.isoformat(),
                            "reason": "relocated",
                        },
                        source,
                    )
                )
                counts["exited"] += 1
            else:
                counts["current"] += 1
                limit = 60 if track else 48
                if add_months(admitted, limit) < REFERENCE_DAY:
                    overdue += 1
        for carrier in carriers:
            report.append(
                self.event(
                    "incubator.annual_report",
                    {
                        "incubator_id": carrier["incubator_id"],
                        "year": 2024,
                        "area_m2": carrier["area_m2"],
                        "incubatee_area_m2": round(carrier["area_m2"] * self.rng.uniform(0.5, 0.9)),
                        "mentors": self.rng.randint(2, 30),
                        "staff": self.rng.randint(3, 25),
                        "fund": float(self.rng.randint(1, 20) * 1_000_000),
                        "incubatees_with_financing": self.rng.randint(0, 20),
                        "incubatees_with_ip": self.rng.randint(0, 40),
                        "income": float(self.rng.randint(1, 50) * 100_000),
                    },
                    f"/incubators/{carrier['incubator_id']}",
                )
            )
        province.truth |= {
            "carriers": len(carriers),
            "incubated_firms": len(chosen),
            "incubations": dict(counts),
            "late_admissions": late_admissions,
            "graduations_unsupported": unsupported,
            "overdue_as_of_reference_day": overdue,
            "reference_day": REFERENCE_DAY.isoformat(),
            "carriers_per_unit": dict(
                Counter(unit_for(c["region_code"], c.get("zone")) for c in carriers)
            ),
        }

    def graduation_basis(self, reports: dict, rounds: list) -> str:
        if any(r["high_tech_certified"] for r in reports.values()):
            return "high_tech"
        if sum(r["amount"] for r in rounds) > 5_000_000:
            return "investment"
        return self.rng.choice(["revenue", "acquired_or_listed", "investment"])

    def tier_truth(self, firms: list) -> dict[str, Any]:
        per_unit: dict[str, Counter] = {}
        tiers = {}
        for profile, reports, rounds in firms:
            tier = expected_tier(profile, {y: r for y, r in reports.items()}, rounds)
            tiers[profile["uscc"]] = tier
            unit = unit_for(profile["region_code"], profile.get("zone"))
            per_unit.setdefault(unit, Counter())[tier] += 1
        return {
            "firms": len(firms),
            "tiers": tiers,
            "tiers_per_unit": {u: dict(c) for u, c in sorted(per_unit.items())},
            "tier_counts": dict(Counter(tiers.values())),
            "tech_smes_registered": sum(1 for _, reports, _ in firms if reports),
        }


def write(province: Province, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "enterprise-events.jsonl", "wb") as out:
        for event in province.enterprise_events:
            out.write(
                event
                if isinstance(event, bytes)
                else json.dumps(event, ensure_ascii=False).encode()
            )
            out.write(b"\n")
    (directory / "incubator-events.json").write_text(
        json.dumps(
            {"carriers": province.carriers, "phases": province.incubator_phases}, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    (directory / "truth.json").write_text(
        json.dumps(province.truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def read(directory: Path) -> tuple[list[bytes], dict[str, Any], dict[str, Any]]:
    lines = (directory / "enterprise-events.jsonl").read_bytes().splitlines()
    incubators = json.loads((directory / "incubator-events.json").read_text(encoding="utf-8"))
    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    return [line for line in lines if line], incubators, truth
