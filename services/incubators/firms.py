"""What incubators keeps of a firm's registry snapshot: the facts its policy checks and its
progress counts read, and nothing else (a fraction of the snapshot, so storing and counting
them stays cheap). Plain functions, no I/O."""

from __future__ import annotations

from typing import Any

REPORT_FIELDS = ("year", "revenue", "high_tech_certified", "tech_sme_registered")
ROUND_FIELDS = ("date", "amount", "currency")


def facts_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot cut down to what incubators reads, in the snapshot's own shape (so the
    checks read either)."""
    profile = snapshot.get("profile") or {}
    return {
        "uscc": snapshot["uscc"],
        "version": snapshot["version"],
        "profile": {"founded_on": profile["founded_on"]} if profile else None,
        "status": {"listing": (snapshot.get("status") or {}).get("listing", "unlisted")},
        "annual_reports": [
            {k: r[k] for k in REPORT_FIELDS} for r in snapshot.get("annual_reports", [])
        ],
        "funding_rounds": [
            {k: r[k] for k in ROUND_FIELDS} for r in snapshot.get("funding_rounds", [])
        ],
    }
