"""tiering: classifies firms into 雏鹰 / 瞪羚 / 独角兽 under versioned, per-region rule sets, keeps
their tier history and announces every move (`tier_changed`)."""
