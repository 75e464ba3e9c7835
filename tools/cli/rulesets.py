"""`tracker rulesets`: load, list, simulate and activate tier rule sets (via tiering's RPC)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nameko.exceptions import RemoteError

from tools.cli.ingress import amqp_uri
from tools.cli.rpc import cluster_proxy


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("rulesets", help="tier rule sets (tiering must be running)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for tiering")
    actions = parser.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="validate and store a rule set YAML file")
    load.add_argument("file", type=Path)
    load.set_defaults(run=run_load)
    listing = actions.add_parser("list", help="loaded rule sets and the active one per region")
    listing.set_defaults(run=lambda args: call(args, "list_rulesets"))
    simulate = actions.add_parser(
        "simulate", help="counts before/after and who would move; changes nothing"
    )
    simulate.add_argument("id")
    simulate.set_defaults(run=lambda args: call(args, "simulate_ruleset", args.id))
    activate = actions.add_parser("activate", help="activate and re-evaluate every firm")
    activate.add_argument("id")
    activate.set_defaults(run=lambda args: call(args, "activate_ruleset", args.id))


def call(args: argparse.Namespace, method: str, *params: Any, service: str = "tiering") -> int:
    """One RPC of a service; its answer printed as JSON, a refusal said plainly (exit 1)."""
    try:
        with cluster_proxy({"AMQP_URI": amqp_uri()}, timeout=args.timeout) as cluster:
            result = getattr(getattr(cluster, service), method)(*params)
    except RemoteError as exc:
        print(f"{service} refused: {exc.value}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


def run_load(args: argparse.Namespace) -> int:
    return call(args, "load_ruleset", args.file.read_text(encoding="utf-8"))
