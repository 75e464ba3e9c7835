"""`tracker incubator-rules`: load, list, simulate and activate incubator rule sets (via the
incubators service's RPC): the numbers behind its findings, as versioned data."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.cli.rulesets import call


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "incubator-rules", help="incubator rule sets (incubators must be running)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for it")
    actions = parser.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="validate and store a rule set YAML file")
    load.add_argument("file", type=Path)
    load.set_defaults(
        run=lambda args: call(
            args, "load_rules", args.file.read_text(encoding="utf-8"), service="incubators"
        )
    )
    listing = actions.add_parser("list", help="loaded rule sets and the active one")
    listing.set_defaults(run=lambda args: call(args, "list_rules", service="incubators"))
    simulate = actions.add_parser(
        "simulate", help="which findings would appear and which would go; changes nothing"
    )
    simulate.add_argument("id")
    simulate.set_defaults(
        run=lambda args: call(args, "simulate_rules", args.id, service="incubators")
    )
    activate = actions.add_parser(
        "activate", help="activate, then raise and withdraw findings under it"
    )
    activate.add_argument("id")
    activate.set_defaults(
        run=lambda args: call(args, "activate_rules", args.id, service="incubators")
    )
