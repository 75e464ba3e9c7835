"""`tracker incubators`: register or update a carrier (through the public contract), and run
the overdue sweep."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

from shared.domain.carriers import GRADES, KINDS
from shared.domain.units import ZONES
from shared.publisher import Publisher
from tools.cli.ingress import amqp_uri
from tools.cli.rpc import cluster_proxy


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("incubators", help="carriers and the overdue sweep")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("register", help="create or update a carrier (incubator.registered)")
    add.add_argument("--id", required=True, dest="incubator_id")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--grade", required=True, choices=GRADES)
    add.add_argument("--region", required=True, dest="region_code")
    add.add_argument("--zone", choices=sorted(ZONES))
    add.add_argument("--area", required=True, type=float, dest="area_m2")
    add.add_argument("--recognised-on", required=True, dest="recognised_on")
    add.set_defaults(run=run_register)
    sweep = actions.add_parser("sweep", help="find incubations beyond their limit now")
    sweep.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
    sweep.set_defaults(run=run_sweep)


def run_register(args: argparse.Namespace) -> int:
    data = {
        key: getattr(args, key)
        for key in (
            "incubator_id",
            "name",
            "kind",
            "grade",
            "region_code",
            "area_m2",
            "recognised_on",
        )
    }
    if args.zone:
        data["zone"] = args.zone
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/operators/tracker-cli",
        "type": "incubator.registered",
        "time": datetime.now(UTC).isoformat(),
        "data": data,
    }
    publisher = Publisher(amqp_uri())
    try:
        publisher.publish_events([event])
    finally:
        publisher.close()
    print(
        f"published incubator.registered {event['id']} for {args.incubator_id}; invalid data "
        "ends in tracker.ingress.rejected with the reason"
    )
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    with cluster_proxy({"AMQP_URI": amqp_uri()}, timeout=300) as cluster:
        found = cluster.incubators.sweep(args.as_of)
    print(f"{found} new overdue findings")
    return 0
