"""notifications: routes tier changes and findings to the 12 city units, reliably."""
