"""Multi-window, multi-burn-rate alerts from deploy/monitoring/slos.yaml, as the Google SRE
workbook (chapter 5, "Alerting on SLOs") sets them for a 30-day objective:

    page:   2 % of the budget burnt in 1 h (14.4x, checked over 1 h and 5 m)
            or 5 % in 6 h (6x, over 6 h and 30 m)
    ticket: 10 % in 1 d (3x, over 1 d and 2 h) or 100 % in 3 d (1x, over 3 d and 6 h)

The short window makes an alert stop soon after the burn stops. Each condition also needs
`min_events` events in its long window. Sloth and Pyrra generate the same shape of rules but
neither adds that guard, a runbook link per objective, or renders a faster timescale for the
test that proves the alerts fire; these rules are few enough to write out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scripts.monitoring.rules import alert, group, record
from scripts.monitoring.timescale import Timescale, seconds_of

SLOS = Path(__file__).resolve().parents[2] / "deploy" / "monitoring" / "slos.yaml"
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (severity, for, [(long window, short window, burn rate)])
POLICIES = (
    ("page", "2m", (("1h", "5m", 14.4), ("6h", "30m", 6.0))),
    ("ticket", "15m", (("1d", "2h", 3.0), ("3d", "6h", 1.0))),
)
REQUIRED = {"name", "title", "objective", "description", "errors", "total", "min_events"}


@dataclass(frozen=True)
class Objective:
    name: str
    title: str
    objective: float
    description: str
    errors: str
    total: str
    min_events: int

    @property
    def alert_prefix(self) -> str:
        return "Tracker" + "".join(part.title() for part in self.name.split("-"))

    def rate(self, expression: str, window: str) -> str:
        return " ".join(expression.replace("$window", window).split())


def load(path: Path = SLOS) -> list[Objective]:
    """The objectives, or a ValueError naming what is wrong with which one."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    objectives = []
    for index, item in enumerate(document.get("objectives") or []):
        missing = REQUIRED - set(item)
        if missing or set(item) - REQUIRED:
            raise ValueError(
                f"{path.name}: objectives.{index}: missing {sorted(missing)}, "
                f"unknown {sorted(set(item) - REQUIRED)}"
            )
        objective = Objective(**item)
        if not 0 < objective.objective < 1:
            raise ValueError(f"{path.name}: {objective.name}: objective must be within (0, 1)")
        for key in ("errors", "total"):
            if "$window" not in getattr(objective, key):
                raise ValueError(f"{path.name}: {objective.name}: {key} has no $window")
        objectives.append(objective)
    if not objectives:
        raise ValueError(f"{path.name}: no objectives")
    return objectives


def ratio_name(window: str) -> str:
    """Named after the production window whatever the timescale, so rules refer to the same
    series in both renderings."""
    return f"slo:sli_error:ratio_rate{window}"


def recordings(objectives: list[Objective], t: Timescale) -> dict[str, Any]:
    rules = [
        record(
            ratio_name(window),
            f"({o.rate(o.errors, t.duration(window))}) / ({o.rate(o.total, t.duration(window))})",
            {"slo": o.name},
        )
        for o in objectives
        for window in WINDOWS
    ]
    rules += [
        record("slo:objective:ratio", f"vector({o.objective})", {"slo": o.name}) for o in objectives
    ]
    return group("tracker-slo-recordings", rules)


def condition(o: Objective, t: Timescale, long: str, short: str, burn: float) -> str:
    threshold = f"{burn} * {1 - o.objective:.6g}"
    events = f"({o.rate(o.total, t.duration(long))}) * {t.seconds(seconds_of(long))}"
    return (
        f'({ratio_name(long)}{{slo="{o.name}"}} > {threshold}'
        f' and {ratio_name(short)}{{slo="{o.name}"}} > {threshold}'
        f" and on (service) {events} >= {o.min_events})"
    )


def alerts(objectives: list[Objective], t: Timescale) -> dict[str, Any]:
    rules = []
    for o in objectives:
        for severity, for_, windows in POLICIES:
            speed = "Fast" if severity == "page" else "Slow"
            budget = f"{1 - o.objective:.4g}"
            rules.append(
                alert(
                    f"{o.alert_prefix}BudgetBurn{speed}",
                    " or ".join(condition(o, t, *window) for window in windows),
                    for_=t.duration(for_),
                    severity=severity,
                    labels={"slo": o.name},
                    section=o.name,
                    summary=f"{{{{ $labels.service }}}} burns its {o.title} error budget "
                    f"{'fast' if severity == 'page' else 'steadily'}",
                    description=f"""{o.description} Error ratio {{{{ $value |
                    humanizePercentage }}}} against a budget of {budget}: at this rate the
                    30-day budget is gone within {"5" if severity == "page" else "30"}
                    days.""",
                    page="slos",
                )
            )
    return group("tracker-slo-alerts", rules)
