"""`tracker ingress`: publish events, and replay what a service parked after its retries."""

from __future__ import annotations

import argparse
import json
import sys

from kombu import Connection, Queue

from shared.config import from_env
from shared.ingress.topology import IngressTopology
from shared.publisher import Publisher, Unroutable
from shared.retries import ERROR_HEADER, RETRY_COUNT_HEADER

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_uri() -> str:
    return from_env("AMQP_URI", DEFAULT_AMQP_URI)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ingress", help="publish to and replay from tracker.ingress")
    actions = parser.add_subparsers(dest="action", required=True)

    publish = actions.add_parser("publish", help="publish CloudEvents (JSON lines) from files")
    publish.add_argument("files", nargs="+", help="files with one CloudEvent per line; - = stdin")
    publish.set_defaults(run=run_publish)

    replay = actions.add_parser(
        "replay", help="move a service's parked events back to its queue (after an outage)"
    )
    replay.add_argument("service", help="e.g. registry")
    replay.add_argument("--limit", type=int, default=None, help="at most this many")
    replay.set_defaults(run=run_replay)


def run_publish(args: argparse.Namespace) -> int:
    publisher = Publisher(amqp_uri())
    sent = 0
    try:
        for name in args.files:
            handle = sys.stdin if name == "-" else open(name, encoding="utf-8")  # noqa: SIM115
            with handle:
                for line in (line for line in handle if line.strip()):
                    sent += publisher.publish_events([json.loads(line)])
    except Unroutable as exc:
        print(
            f"not published, no queue takes it ({exc}); {sent} published before it", file=sys.stderr
        )
        return 1
    finally:
        publisher.close()
    print(f"published {sent} events to tracker.ingress (confirmed by the broker)")
    return 0


def replay_parked(uri: str, service: str, limit: int | None = None) -> int:
    """Republish parked messages to the work queue with a fresh retry budget; returns the count."""
    topology = IngressTopology(service, ())
    publisher = Publisher(uri)
    moved = 0
    try:
        with Connection(uri) as conn:
            parked = Queue(topology.retry.dead_queue_name, no_declare=True)(conn.default_channel)
            while limit is None or moved < limit:
                message = parked.get(no_ack=False)
                if message is None:
                    break
                headers = {
                    k: v
                    for k, v in (message.headers or {}).items()
                    if k not in (RETRY_COUNT_HEADER, ERROR_HEADER)
                }
                publisher.publish(
                    message.body,
                    topology.queue_name,
                    content_type=message.content_type or "",
                    headers=headers,
                )
                message.ack()  # only after the broker confirmed the republished copy
                moved += 1
    finally:
        publisher.close()
    return moved


def run_replay(args: argparse.Namespace) -> int:
    moved = replay_parked(amqp_uri(), args.service, args.limit)
    print(f"replayed {moved} parked events into {args.service}.ingress")
    return 0
