"""`tracker keys`: API keys (issue, list, rotate, revoke), straight in the database of the
service that checks them, so no running service is needed and no secret crosses the broker.

Incubator keys live with incubators; unit keys and admin keys with notifications."""

from __future__ import annotations

import argparse
import json

from shared import codes
from shared.config import load_service_config
from shared.keys import ADMIN, ApiKeys
from shared.mongo import DATABASE_KEY, connect
from shared.units import WITH_PROVINCE

SERVICES = ("incubators", "notifications")


def keys_repository(service: str) -> ApiKeys:
    config = load_service_config(service)
    repository = ApiKeys(connect(config)[config[DATABASE_KEY]])
    repository.ensure_indexes()
    return repository


def owner_and_service(args: argparse.Namespace) -> tuple[str | None, tuple[str, ...]]:
    if args.incubator:
        return args.incubator, ("incubators",)
    if args.unit:
        return args.unit, ("notifications",)
    if args.admin:
        return ADMIN, ("notifications",)
    return None, SERVICES


def incubator_id(text: str) -> str:
    """An id as incubator events carry it: a key issued for any other text could never post."""
    if not codes.is_identifier(text):
        raise argparse.ArgumentTypeError(f"{text!r}: {codes.IDENTIFIER_RULE}")
    return text


def add_owner_options(parser: argparse.ArgumentParser, required: bool) -> None:
    owner = parser.add_mutually_exclusive_group(required=required)
    owner.add_argument(
        "--incubator", type=incubator_id, help="an incubator id (for POST /v1/events)"
    )
    owner.add_argument(
        "--unit", choices=WITH_PROVINCE, help="a unit or the province (for its alert inbox)"
    )
    owner.add_argument("--admin", action="store_true", help="an administrator key")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("keys", help="API keys for incubators, units and admins")
    actions = parser.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="a new key, printed once (only its hash is kept)")
    add_owner_options(issue, required=True)
    issue.set_defaults(run=run_issue)
    listing = actions.add_parser("list", help="keys without their secrets")
    add_owner_options(listing, required=False)
    listing.set_defaults(run=run_list)
    for name, helptext in (
        ("rotate", "a new key for the same owner; revokes the old"),
        ("revoke", "revoke a key at once"),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("key_id")
        action.set_defaults(run=run_rotate if name == "rotate" else run_revoke)


def run_issue(args: argparse.Namespace) -> int:
    owner, (service,) = owner_and_service(args)
    print(keys_repository(service).issue(str(owner)))
    return 0


def run_list(args: argparse.Namespace) -> int:
    owner, services = owner_and_service(args)
    keys = [
        {**key, "service": service}
        for service in services
        for key in keys_repository(service).listing(owner)
    ]
    print(json.dumps(keys, default=str, indent=2))
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    for service in SERVICES:
        token = keys_repository(service).rotate(args.key_id)
        if token is not None:
            print(token)
            return 0
    print(f"no active key {args.key_id}")
    return 1


def run_revoke(args: argparse.Namespace) -> int:
    if any(keys_repository(service).revoke(args.key_id) for service in SERVICES):
        print(f"revoked {args.key_id}")
        return 0
    print(f"no active key {args.key_id}")
    return 1
