"""tiering: classifies firms into 雏鹰 / 瞪羚 / 独角兽 under versioned rule sets.

Not built yet: issue #4.
"""
