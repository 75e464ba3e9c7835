"""`tracker keys`: incubator API keys (issue, list, rotate, revoke), straight in the database
of the incubators service, so no running service is needed and no secret crosses the broker."""

from __future__ import annotations

import argparse
import json

from services.incubators.keys import ApiKeys
from shared.config import load_service_config
from shared.mongo import DATABASE_KEY, connect


def keys_repository() -> ApiKeys:
    config = load_service_config("incubators")
    repository = ApiKeys(connect(config)[config[DATABASE_KEY]])
    repository.ensure_indexes()
    return repository


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("keys", help="incubator API keys")
    actions = parser.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="a new key, printed once (only its hash is kept)")
    issue.add_argument("--incubator", required=True)
    issue.set_defaults(run=run_issue)
    listing = actions.add_parser("list", help="keys without their secrets")
    listing.add_argument("--incubator")
    listing.set_defaults(run=run_list)
    rotate = actions.add_parser("rotate", help="a new key for the same incubator; revokes the old")
    rotate.add_argument("key_id")
    rotate.set_defaults(run=run_rotate)
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=run_revoke)


def run_issue(args: argparse.Namespace) -> int:
    print(keys_repository().issue(args.incubator))
    return 0


def run_list(args: argparse.Namespace) -> int:
    print(json.dumps(keys_repository().listing(args.incubator), default=str, indent=2))
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    token = keys_repository().rotate(args.key_id)
    if token is None:
        print(f"no active key {args.key_id}")
        return 1
    print(token)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    if not keys_repository().revoke(args.key_id):
        print(f"no active key {args.key_id}")
        return 1
    print(f"revoked {args.key_id}")
    return 0
