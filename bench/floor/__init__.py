"""nameko's own ceiling for the pipeline's hops, with no storage and no rules: what any
nameko implementation of this topology could reach on this machine (see run())."""

from bench.floor.scenario import run

__all__ = ["run"]
