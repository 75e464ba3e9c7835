"""notifications: routes tier changes and findings to the 12 city units (issue #6; not built yet)."""
