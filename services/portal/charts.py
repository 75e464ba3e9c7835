"""SVG bar charts drawn on the server, so pages need no script. Pure functions: text in, SVG
markup out, every label escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, BOTTOM, TOP = 520, 220, 40, 20
COLOURS = {"unicorn": "#8e44ad", "gazelle": "#2980b9", "eaglet": "#27ae60", "none": "#95a5a6"}


def _scale(values: list[int]) -> float:
    top = max(values, default=0)
    return (HEIGHT - BOTTOM - TOP) / top if top else 0.0


def bars(title: str, items: list[tuple[str, str, int]]) -> Markup:
    """One bar per (key, label, value): the key picks the colour."""
    scale = _scale([v for _, _, v in items])
    step = WIDTH / max(len(items), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
    ]
    for index, (key, label, value) in enumerate(items):
        height = value * scale
        x, y = index * step + step * 0.2, HEIGHT - BOTTOM - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.6:.1f}" height="{height:.1f}"'
            f' fill="{COLOURS.get(key, "#34495e")}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{x + step * 0.3:.1f}" y="{y - 4:.1f}" text-anchor="middle"'
            f' font-size="12">{value}</text>'
            f'<text x="{x + step * 0.3:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle"'
            f' font-size="12">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def grouped(title: str, groups: list[str], keys: list[tuple[str, str]], counts: dict) -> Markup:
    """Bars of each key (tier) side by side within each group (year), with a legend;
    `counts[group][key]` is the value (missing is 0)."""
    values = [int(counts.get(g, {}).get(k, 0)) for g in groups for k, _ in keys]
    scale = _scale(values)
    group_width = WIDTH / max(len(groups), 1)
    bar = group_width * 0.8 / max(len(keys), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
    ]
    if not any(values):
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="13"'
            ' fill="#566573">无记录 / nothing recorded in these years</text>'
        )
    for g_index, group in enumerate(groups):
        left = g_index * group_width + group_width * 0.1
        for k_index, (key, label) in enumerate(keys):
            value = int(counts.get(group, {}).get(key, 0))
            height = value * scale
            x, y = left + k_index * bar, HEIGHT - BOTTOM - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" height="{height:.1f}"'
                f' fill="{COLOURS.get(key, "#34495e")}">'
                f"<title>{escape(group)} {escape(label)}: {value}</title></rect>"
            )
        parts.append(
            f'<text x="{left + group_width * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}"'
            f' text-anchor="middle" font-size="12">{escape(group)}</text>'
        )
    for k_index, (key, label) in enumerate(keys):
        x = 10 + k_index * (WIDTH / max(len(keys), 1))
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - 14}" width="10" height="10"'
            f' fill="{COLOURS.get(key, "#34495e")}"/>'
            f'<text x="{x + 14:.1f}" y="{HEIGHT - 5}" font-size="11">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
