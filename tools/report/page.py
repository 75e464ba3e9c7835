"""The report as one self-contained HTML page: inline CSS and SVG charts, no scripts, no
network, so it opens from a file in any browser."""

from __future__ import annotations

from html import escape
from typing import Any

from tools.report.text import LABELS, TIERS

COLOURS = {"unicorn": "#7b2cbf", "gazelle": "#2a9d8f", "eaglet": "#e9c46a", "none": "#d9d9d9"}
STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;margin:2rem;
color:#222;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem}td,th{padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}tr:nth-child(even){background:#f6f6f6}
.legend span{display:inline-block;margin-right:1rem}.swatch{display:inline-block;width:.8rem;
height:.8rem;margin-right:.3rem;vertical-align:middle}.muted{color:#777;font-size:.85rem}
"""


def stacked_bars(rows: list[tuple[str, dict[str, int]]], width: int = 760) -> str:
    """A horizontal bar per unit, stacked by tier, scaled to the largest unit."""
    bar_h, label_w, gap = 22, 190, 6
    biggest = max((sum(c.values()) for _, c in rows), default=1) or 1
    parts = []
    for i, (label, counts) in enumerate(rows):
        y, x = i * (bar_h + gap), label_w
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}</text>')
        for tier in TIERS:
            n = counts.get(tier, 0)
            w = (width - label_w - 70) * n / biggest
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{COLOURS[tier]}"><title>{LABELS[tier]} {n:,}</title></rect>'
                )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{sum(counts.values()):,}</text>'
        )
    height = len(rows) * (bar_h + gap)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img">{"".join(parts)}</svg>'
    )


def simple_bars(items: dict[str, int], colour: str = "#457b9d", width: int = 760) -> str:
    return (
        stacked_bars([(k, {"none": v}) for k, v in items.items()], width).replace(
            COLOURS["none"], colour
        )
        if items
        else '<p class="muted">none</p>'
    )


def progress_bar(label: str, actual: float, target: float, shown: str) -> str:
    ratio = min(actual / target, 1.0) if target else 0.0
    colour = "#2a9d8f" if actual >= target else "#e76f51"
    return (
        f"<div><div>{escape(label)}: <b>{escape(shown)}</b></div>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="18" role="img">'
        f'<rect width="600" height="18" fill="#eee"/><rect width="{600 * ratio:.1f}" '
        f'height="18" fill="{colour}"/></svg></div>'
    )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(f'{c:,}' if isinstance(c, int) else str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render(report: dict[str, Any]) -> str:
    names = report["unit_names"]
    units = [
        (f"{unit} {names.get(unit, '')}", counts)
        for unit, counts in report["tiers_per_unit"].items()
    ]
    legend = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[t]}"></i>{LABELS[t]} {t}</span>'
        for t in TIERS
    )
    progress = report["progress"]
    growth = progress["high_tech_growth"]
    counted = (
        ("carriers", "载体 carriers"),
        ("incubated_firms", "在孵/累计孵化企业 incubated firms"),
        ("tech_smes_registered", "科技型中小企业 registered tech SMEs"),
    )
    bars = [
        progress_bar(
            f"{label} ({progress[key]['target']:,})",
            progress[key]["actual"],
            progress[key]["target"],
            f"{progress[key]['actual']:,}",
        )
        for key, label in counted
    ]
    bars.append(
        progress_bar(
            f"高新技术企业增长 high-tech growth {growth['year']} (≥ {growth['target']:.0%})",
            growth["growth"] or 0,
            growth["target"],
            "n/a" if growth["growth"] is None else f"{growth['growth']:.1%}",
        )
    )
    total = report["tiers_total"]
    sections = [
        f"<h1>吉林省科技企业梯度培育与孵化载体 — Jilin tiers and incubators</h1>"
        f'<p class="muted">Generated {escape(report["generated_at"])} from the services\' '
        f"public APIs.</p>",
        "<h2>各单位企业层级 Firms per tier per unit</h2>",
        f'<p class="legend">{legend}</p>',
        stacked_bars(units),
        table(
            ["unit", *[f"{LABELS[t]} {t}" for t in TIERS]],
            [[label, *[c.get(t, 0) for t in TIERS]] for label, c in units]
            + [["all", *[total.get(t, 0) for t in TIERS]]],
        ),
        f"<h2>层级变化 Tier changes ({report['tier_changes']['total']:,})</h2>",
        simple_bars(
            dict(sorted(report["tier_changes"]["by_transition"].items(), key=lambda kv: -kv[1])),
            "#264653",
        ),
        "<h2>目标进度 Progress to the 2025-2027 targets</h2>",
        *bars,
        f"<h2>孵化载体合规发现 Incubator compliance findings "
        f"({report['findings']['total']:,})</h2>",
        simple_bars(report["findings"]["by_kind"], "#e76f51"),
        f"<h2>被拒绝的事件 Rejected events ({report['rejections']['total']:,})</h2>",
        simple_bars(report["rejections"]["by_reason"], "#6d597a"),
    ]
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>Jilin tracker report</title><style>{STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )
