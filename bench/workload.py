"""The events a scenario sends: firms registered, four annual reports each, and tiering's
input (an `enterprise_updated` snapshot) for seeding; all from the province generator."""

from __future__ import annotations

import json
from typing import Any

from services.registry.records import FUNDING_FIELDS, PROFILE_FIELDS, REPORT_FIELDS, STATUS_DEFAULTS
from shared.domain.units import unit_for
from tools.province.generator import Generator

YEARS = (2021, 2022, 2023, 2024)
SOURCE = "/samr/jilin"


class Workload:
    def __init__(self, firms: int, seed: int = 7):
        self.generator = Generator(seed, firms=firms, carriers=0, incubated=0)
        self.firms = []
        for _ in range(firms):
            profile = self.generator.firm() | {"founded_on": "2016-05-01"}  # four reports each
            self.firms.append(
                (
                    profile,
                    self.generator.reports(profile, "bench"),
                    self.generator.rounds(profile, "none"),
                )
            )

    def encode(self, event_type: str, data: dict[str, Any]) -> bytes:
        return json.dumps(
            self.generator.event(event_type, data, SOURCE), ensure_ascii=False
        ).encode()

    def registrations(self) -> list[bytes]:
        return [self.encode("enterprise.registered", profile) for profile, _, _ in self.firms]

    def annual_reports(self, years: tuple[int, ...] = YEARS) -> list[bytes]:
        """Year by year, so each firm's last report is also the last one sent for it."""
        return [
            self.encode("enterprise.annual_report", reports[year])
            for year in years
            for _, reports, _ in self.firms
        ]

    def snapshots(self) -> list[dict[str, Any]]:
        """What the registry would announce for each firm with everything applied."""
        return [snapshot(profile, reports, rounds) for profile, reports, rounds in self.firms]


def snapshot(
    profile: dict[str, Any], reports: dict[int, dict[str, Any]], rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    status = {**STATUS_DEFAULTS, **{k: profile[k] for k in STATUS_DEFAULTS if k in profile}}
    return {
        "uscc": profile["uscc"],
        "version": 1 + len(reports) + len(rounds),
        "registered": True,
        "profile": {key: profile.get(key) for key in PROFILE_FIELDS},
        "unit": unit_for(profile["region_code"], profile.get("zone")),
        "status": status,
        "annual_reports": [{k: r[k] for k in REPORT_FIELDS} for _, r in sorted(reports.items())],
        "funding_rounds": [{k: r.get(k) for k in FUNDING_FIELDS} for r in rounds],
        "conflicts": [],
    }
