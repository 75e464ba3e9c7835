"""`tracker subscriptions`: a unit's webhook endpoints and e-mail recipients, through the
notifications service's RPC (it owns them; no database is opened here). A webhook given no
secret gets one from the service, printed once."""

from __future__ import annotations

import argparse
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from nameko.exceptions import RemoteError

from tools.cli.ingress import amqp_uri
from tools.cli.rpc import cluster_proxy

RPC_TIMEOUT_SECONDS = 30
REFUSAL = "InvalidSubscription"  # the service's error for input it cannot take, fields named


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "subscriptions", help="where each unit's alerts are sent (notifications must be running)"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a webhook (--webhook URL) or e-mail (--email ADDRESS)")
    add.add_argument("--unit", required=True)
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="URL")
    target.add_argument("--email", metavar="ADDRESS")
    add.add_argument("--secret", help="whsec_<base64>; made and printed once if absent")
    add.add_argument("--kinds", nargs="*", default=[], help="tier_changed finding digest")
    add.add_argument("--tiers", nargs="*", default=[], help="only changes to or from these")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="subscriptions, without secrets")
    listing.add_argument("--unit")
    listing.set_defaults(run=run_list)
    remove = actions.add_parser("remove")
    remove.add_argument("sub_id")
    remove.set_defaults(run=run_remove)


def ask(method: str, *params: Any) -> Any:
    with cluster_proxy({"AMQP_URI": amqp_uri()}, timeout=RPC_TIMEOUT_SECONDS) as cluster:
        return getattr(cluster.notifications, method)(*params)


def refusal_said(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Input the service refuses is said with the fields it names (exit 2), not as a trace."""

    @functools.wraps(run)
    def said(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except RemoteError as exc:
            if exc.exc_type != REFUSAL:
                raise
            print(f"invalid subscription: {exc.value}")
            return 2

    return said


def subscription_of(args: argparse.Namespace) -> dict[str, Any]:
    wanted = {"unit": args.unit, "kinds": args.kinds, "tiers": args.tiers}
    if args.email:
        return wanted | {"channel": "email", "address": args.email}
    secret = {"secret": args.secret} if args.secret else {}
    return wanted | {"channel": "webhook", "url": args.webhook} | secret


@refusal_said
def run_add(args: argparse.Namespace) -> int:
    # A request id of its own: should the service see this request twice, it adds one.
    created = ask("create_subscription", subscription_of(args), uuid.uuid4().hex)
    print(json.dumps(created["subscription"], default=str, ensure_ascii=False))
    if created["secret"]:
        print(f"signing secret (shown once; give it to the receiver): {created['secret']}")
    return 0


@refusal_said
def run_list(args: argparse.Namespace) -> int:
    listed = ask("subscriptions", args.unit)
    print(json.dumps(listed, default=str, ensure_ascii=False, indent=2))
    return 0


@refusal_said
def run_remove(args: argparse.Namespace) -> int:
    if ask("delete_subscription", args.sub_id):
        return 0
    print(f"no subscription {args.sub_id}")
    return 1
