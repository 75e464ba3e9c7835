"""The words of the incubator events (docs/contract.md): carrier kinds and grades, incubation
tracks and graduation bases. Here because more than one part speaks them: incubators validates
events with them, the portal's upload template offers them, `tracker incubators register`
takes them as choices; each part keeps its own rules about them."""

from __future__ import annotations

KINDS = ("incubator", "maker_space", "incubation_base")
GRADES = ("municipal", "provincial", "national", "national_standard", "national_excellent")
TRACKS = ("biomedicine", "ic_design", "modern_agriculture")  # the 60-month incubation limit
BASES = ("high_tech", "investment", "revenue", "acquired_or_listed")  # graduation conditions
