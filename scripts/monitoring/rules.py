"""Building blocks of a rule: alerts carry a severity, a summary, a description and the
`runbook_url` of their section in docs/runbooks (checked to exist by tests/deploy)."""

from __future__ import annotations

import re
from typing import Any

# The runbooks as an operator opens them: change this one line to your repository's address.
RUNBOOK_BASE = "https://git.example.invalid/tracker/-/blob/main/docs/runbooks"


def runbook_url(page: str, section: str) -> str:
    """The section `## <section>` of docs/runbooks/<page>.md (its anchor: the lowered name)."""
    return f"{RUNBOOK_BASE}/{page}.md#{section.lower()}"


def one_line(expr: str) -> str:
    """An expression written over several lines, as one (a range `[5m]` stays attached)."""
    return re.sub(r"\s+\[", "[", " ".join(expr.split()))


def alert(
    name: str,
    expr: str,
    *,
    severity: str,
    summary: str,
    description: str,
    page: str,
    for_: str | None = None,
    labels: dict[str, str] | None = None,
    section: str | None = None,
) -> dict[str, Any]:
    """An alerting rule; its runbook is the section named after it (or `section`)."""
    rule: dict[str, Any] = {"alert": name, "expr": one_line(expr)}
    if for_ is not None:
        rule["for"] = for_
    rule["labels"] = {"severity": severity, **(labels or {})}
    rule["annotations"] = {
        "summary": summary,
        "description": " ".join(description.split()),
        "runbook_url": runbook_url(page, section or name),
    }
    return rule


def record(name: str, expr: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"record": name, "expr": one_line(expr)}
    if labels:
        rule["labels"] = labels
    return rule


def group(name: str, rules: list[dict[str, Any]], interval: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if interval is not None:
        out["interval"] = interval
    out["rules"] = rules
    return out
