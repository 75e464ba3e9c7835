"""tiering: classifies firms into 雏鹰 / 瞪羚 / 独角兽 under versioned rule sets (issue #4; not built yet)."""
