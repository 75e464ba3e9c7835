"""`tracker demo generate | load`: a synthetic province, loaded through the public contract."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from tools.cli.ingress import amqp_uri
from tools.cli.keys import auth_rpc, issue_key
from tools.cli.rpc import cluster_proxy
from tools.province import generator, loader

FULL = {"firms": 21_000, "carriers": 350, "incubated": 10_500}


def sizes(scale: float) -> dict[str, int]:
    """Firms, carriers and incubated firms of a province `scale` times the full one."""
    return {key: max(1, round(value * scale)) for key, value in FULL.items()}


def service_url(name: str, port: int) -> str:
    return os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")


def management_url() -> str:
    return os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="a synthetic province through the public contract")
    actions = parser.add_subparsers(dest="action", required=True)
    generate = actions.add_parser("generate", help="write a province's events and ground truth")
    generate.add_argument("--seed", type=int, default=2025)
    generate.add_argument("--out", type=Path, default=Path(".stack/province"))
    generate.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1.0 = 21,000 firms, 350 carriers, 10,500 incubated",
    )
    generate.set_defaults(run=run_generate)
    load = actions.add_parser("load", help="publish and post a generated province, then wait")
    load.add_argument("directory", type=Path, nargs="?", default=Path(".stack/province"))
    load.add_argument("--timeout", type=float, default=3600)
    load.set_defaults(run=run_load)


def run_generate(args: argparse.Namespace) -> int:
    size = sizes(args.scale)
    province = generator.Generator(args.seed, **size).generate()
    generator.write(province, args.out)
    incubator_events = sum(len(phase) for phase in province.incubator_phases)
    print(
        f"generated {len(province.enterprise_events):,} enterprise events and "
        f"{incubator_events:,} incubator events for {size['firms']:,} firms and "
        f"{size['carriers']} carriers (seed {args.seed}) in {args.out}"
    )
    return 0


def run_load(args: argparse.Namespace) -> int:
    events, incubators, truth = generator.read(args.directory)
    with auth_rpc() as cluster:
        keys = {
            c["incubator_id"]: issue_key(cluster, "incubator", c["incubator_id"])
            for c in incubators["carriers"]
        }
    endpoints = loader.Endpoints(
        amqp_uri(),
        management_url(),
        registry_url=service_url("registry", 8001),
        incubators_url=service_url("incubators", 8003),
        tiering_url=service_url("tiering", 8002),
        notifications_url=service_url("notifications", 8004),
    )
    result = loader.load(endpoints, events, incubators, keys, args.timeout)
    with cluster_proxy({"AMQP_URI": amqp_uri()}, timeout=600) as cluster:
        result["overdue_found"] = cluster.incubators.sweep(truth["reference_day"])
    print(json.dumps(result, ensure_ascii=False))
    print(
        f"loaded {result['events']:,} events in {result['seconds']}s "
        f"({result['events'] / max(result['seconds'], 0.1):,.0f} events/s); "
        f"{'drained' if result['drained'] else 'NOT drained'}"
    )
    return 0 if result["drained"] else 1
