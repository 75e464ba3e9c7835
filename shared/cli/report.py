"""`tracker report [--html FILE]`: the province's state from the services' public APIs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shared.cli.demo import management_url, service_url
from shared.cli.ingress import amqp_uri
from shared.report import collect, page, text


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("report", help="tiers, progress, findings and rejections")
    parser.add_argument("--html", type=Path, help="also write one self-contained HTML page")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sources = collect.Sources(
        amqp_uri(), management_url(), service_url("tiering", 8002), service_url("incubators", 8003)
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
