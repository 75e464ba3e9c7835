"""`tracker keys`: API keys, through the auth service's RPC (the service owns them; no database
is opened here). A key is printed once, when issued or rotated; only its hash is kept.

    tracker keys issue --unit 220100 | --incubator JL-INC-0001 | --admin | --service portal
    tracker keys list [--unit U | --incubator ID | --admin | --service NAME]
    tracker keys rotate KEY_ID | revoke KEY_ID
    tracker keys import-legacy    # once: keys the incubators and notifications services kept
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

from shared.domain import codes
from shared.domain.units import WITH_PROVINCE
from tools.cli.ingress import amqp_uri

LEGACY_HOLDERS = ("incubators", "notifications")
RPC_TIMEOUT_SECONDS = 30


def auth_rpc() -> ClusterRpcProxy:
    return ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=RPC_TIMEOUT_SECONDS)


def issue_key(cluster: Any, kind: str, subject: str) -> str:
    """A new key for the owner, as its one and only printed copy."""
    return str(cluster.auth.issue({"kind": kind, "subject": subject})["key"])


def incubator_id(text: str) -> str:
    """An id as incubator events carry it: a key issued for any other text could never post."""
    if not codes.is_identifier(text):
        raise argparse.ArgumentTypeError(f"{text!r}: {codes.IDENTIFIER_RULE}")
    return text


def owner_of(args: argparse.Namespace) -> dict[str, str] | None:
    if args.incubator:
        return {"kind": "incubator", "subject": args.incubator}
    if args.unit:
        return {"kind": "unit", "subject": args.unit}
    if args.admin:
        return {"kind": "admin", "subject": "admin"}
    if args.service:
        return {"kind": "service", "subject": args.service}
    return None


def add_owner_options(parser: argparse.ArgumentParser, required: bool) -> None:
    owner = parser.add_mutually_exclusive_group(required=required)
    owner.add_argument(
        "--incubator", type=incubator_id, help="an incubator id (its carrier and incubatees)"
    )
    owner.add_argument(
        "--unit", choices=WITH_PROVINCE, help="a unit, or the province 220000 (every unit)"
    )
    owner.add_argument("--admin", action="store_true", help="an administrator key")
    owner.add_argument("--service", help="a service's own credential (e.g. report)")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("keys", help="API keys for units, incubators, admins, services")
    actions = parser.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="a new key, printed once (only its hash is kept)")
    add_owner_options(issue, required=True)
    issue.set_defaults(run=run_issue)
    listing = actions.add_parser("list", help="keys without their secrets")
    add_owner_options(listing, required=False)
    listing.set_defaults(run=run_list)
    for name, helptext in (
        ("rotate", "a new key for the same owner; revokes the old"),
        ("revoke", "revoke a key (services stop taking it within 30 s)"),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("key_id")
        action.set_defaults(run=run_rotate if name == "rotate" else run_revoke)
    legacy = actions.add_parser(
        "import-legacy", help="once: move keys issued before the auth service into it"
    )
    legacy.set_defaults(run=run_import_legacy)


def run_issue(args: argparse.Namespace) -> int:
    owner = owner_of(args)
    assert owner is not None  # the option group is required
    with auth_rpc() as cluster:
        print(issue_key(cluster, owner["kind"], owner["subject"]))
    return 0


def run_list(args: argparse.Namespace) -> int:
    with auth_rpc() as cluster:
        keys = cluster.auth.list(owner_of(args))
    print(json.dumps(keys, default=str, indent=2))
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    with auth_rpc() as cluster:
        issued = cluster.auth.rotate(args.key_id)
    if issued is None:
        print(f"no active key {args.key_id}")
        return 1
    print(issued["key"])
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    with auth_rpc() as cluster:
        revoked = cluster.auth.revoke(args.key_id)
    print(f"revoked {args.key_id}" if revoked else f"no active key {args.key_id}")
    return 0 if revoked else 1


def run_import_legacy(args: argparse.Namespace) -> int:
    """Idempotent: a key already in the auth service is counted as known."""
    with auth_rpc() as cluster:
        records = [r for holder in LEGACY_HOLDERS for r in getattr(cluster, holder).legacy_keys()]
        result = cluster.auth.import_legacy(records)
    print(json.dumps(result))
    return 0
