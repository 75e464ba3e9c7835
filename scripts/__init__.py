"""The project's maintenance scripts; `scripts.monitoring` is importable for its tests."""
