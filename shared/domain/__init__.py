"""The domain vocabulary: identifiers (USCC, region and unit codes), the carriers' words, dates
and the one clock, and their marshmallow fields. No I/O and nothing of the service chassis."""
