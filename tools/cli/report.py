"""`tracker report [--html FILE]`: the province's state from the services' public APIs."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.cli.demo import management_url, service_url
from tools.cli.ingress import amqp_uri
from tools.cli.keys import auth_rpc
from tools.report import collect, page, text


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("report", help="tiers, progress, findings and rejections")
    parser.add_argument("--html", type=Path, help="also write one self-contained HTML page")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON")
    parser.set_defaults(run=run)


@contextmanager
def reading_key() -> Iterator[str]:
    """`TRACKER_API_KEY` when set; else a service key issued for this one report and revoked
    when it is done, so no standing credential is left behind."""
    given = os.environ.get("TRACKER_API_KEY")
    if given:
        yield given
        return
    with auth_rpc() as cluster:
        issued = cluster.auth.issue({"kind": "service", "subject": "report"})
    try:
        yield issued["key"]
    finally:
        with auth_rpc() as cluster:
            cluster.auth.revoke(issued["key_id"])


def run(args: argparse.Namespace) -> int:
    with reading_key() as key:
        sources = collect.Sources(
            amqp_uri(),
            management_url(),
            service_url("tiering", 8002),
            service_url("incubators", 8003),
            key,
        )
        report = collect.collect(sources)
    print(text.render(report))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(page.render(report), encoding="utf-8")
        print(f"\nHTML report: {args.html.resolve()}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
