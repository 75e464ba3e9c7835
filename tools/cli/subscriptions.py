"""`tracker subscriptions`: a unit's webhook endpoints and e-mail recipients, straight in the
notifications database. A webhook secret is generated when not given and printed once."""

from __future__ import annotations

import argparse
import json

from services.notifications.signing import new_secret
from services.notifications.storage import Notifications
from services.notifications.subscriptions import InvalidSubscription, make_subscription, public
from shared.config import load_service_config
from shared.mongo import DATABASE_KEY, connect


def store() -> Notifications:
    config = load_service_config("notifications")
    repository = Notifications(connect(config)[config[DATABASE_KEY]])
    repository.ensure_indexes()
    return repository


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("subscriptions", help="where each unit's alerts are sent")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a webhook (--webhook URL) or e-mail (--email ADDRESS)")
    add.add_argument("--unit", required=True)
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="URL")
    target.add_argument("--email", metavar="ADDRESS")
    add.add_argument("--secret", help="whsec_<base64>; generated and printed once if absent")
    add.add_argument("--kinds", nargs="*", default=[], help="tier_changed finding digest")
    add.add_argument("--tiers", nargs="*", default=[], help="only changes to or from these")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="subscriptions, without secrets")
    listing.add_argument("--unit")
    listing.set_defaults(
        run=lambda args: (
            print(
                json.dumps(
                    store().subscriptions(args.unit), default=str, ensure_ascii=False, indent=2
                )
            )
            or 0
        )
    )
    remove = actions.add_parser("remove")
    remove.add_argument("sub_id")
    remove.set_defaults(run=lambda args: 0 if store().remove_subscription(args.sub_id) else 1)


def run_add(args: argparse.Namespace) -> int:
    data = {"unit": args.unit, "kinds": args.kinds, "tiers": args.tiers}
    generated = None
    if args.webhook:
        generated = None if args.secret else new_secret()
        data |= {"channel": "webhook", "url": args.webhook, "secret": args.secret or generated}
    else:
        data |= {"channel": "email", "address": args.email}
    try:
        subscription = make_subscription(data)
    except InvalidSubscription as exc:
        print(f"invalid subscription: {exc}")
        return 2
    store().add_subscription(subscription)
    print(json.dumps(public(subscription), default=str, ensure_ascii=False))
    if generated:
        print(f"signing secret (shown once; give it to the receiver): {generated}")
    return 0
