"""The report as plain text for a terminal."""

from __future__ import annotations

from typing import Any

TIERS = ("unicorn", "gazelle", "eaglet", "none")
LABELS = {"unicorn": "独角兽", "gazelle": "瞪羚", "eaglet": "雏鹰", "none": "无"}


def render(report: dict[str, Any]) -> str:
    lines = [f"Jilin technology firms and incubators — {report['generated_at']}", ""]
    lines.append("Firms per tier per unit")
    lines.append(f"  {'unit':<22}" + "".join(f"{LABELS[t] + ' ' + t:>16}" for t in TIERS))
    for unit, counts in report["tiers_per_unit"].items():
        name = f"{unit} {report['unit_names'].get(unit, '')}"
        lines.append(f"  {name:<22}" + "".join(f"{counts.get(t, 0):>16,}" for t in TIERS))
    total = report["tiers_total"]
    lines.append(f"  {'all':<22}" + "".join(f"{total.get(t, 0):>16,}" for t in TIERS))
    changes = report["tier_changes"]
    lines += ["", f"Tier changes: {changes['total']:,}"]
    lines += [
        f"  {k}: {v:,}" for k, v in sorted(changes["by_transition"].items(), key=lambda kv: -kv[1])
    ]
    progress = report["progress"]
    lines += ["", "Progress to the 2025-2027 targets"]
    for key, name in (
        ("carriers", "carriers (incubators, maker spaces, bases)"),
        ("incubated_firms", "incubated firms (cumulative)"),
        ("tech_smes_registered", "registered technology SMEs"),
    ):
        item = progress[key]
        lines.append(
            f"  {name:<44} {item['actual']:>8,} / {item['target']:,} ({item['ratio']:.0%})"
        )
    growth = progress["high_tech_growth"]
    shown = "n/a" if growth["growth"] is None else f"{growth['growth']:.1%}"
    lines.append(
        f"  {'high-tech firms, growth in ' + str(growth['year']):<44} {shown:>8} "
        f"(target {growth['target']:.0%}; {growth['previous']:,} → "
        f"{growth['certified']:,})"
    )
    findings = report["findings"]
    lines += ["", f"Incubator compliance findings: {findings['total']:,}"]
    lines += [f"  {k}: {v:,}" for k, v in sorted(findings["by_kind"].items())]
    rejected = report["rejections"]
    lines += ["", f"Rejected events: {rejected['total']:,}"]
    lines += [f"  {k}: {v:,}" for k, v in rejected["by_reason"].items()]
    return "\n".join(lines)
