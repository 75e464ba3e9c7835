"""`tracker`: the operators' command line."""

from __future__ import annotations

import argparse
import sys
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko imports it

from tools.cli import (  # noqa: E402
    demo,
    incubator_rules,
    incubators,
    ingress,
    keys,
    report,
    rulesets,
    subscriptions,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    modules = (ingress, rulesets, incubator_rules, keys, incubators, subscriptions, demo, report)
    for module in modules:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
