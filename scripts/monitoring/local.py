"""A Prometheus configuration for services running on this machine (`make run`, and the test
that proves the alerts fire): the same jobs as docker-compose's prometheus.yml, with local
addresses. `python -m scripts.monitoring.local --out FILE --rules FILE --rabbitmq HOST:PORT
[--interval 15s] [--alertmanager HOST:PORT] TARGET...` writes one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from scripts.monitoring.render import MONITORING

COMPOSE_CONFIG = MONITORING / "prometheus" / "prometheus.yml"


def local_config(
    targets: list[str],
    rabbitmq: str,
    rules: list[Path],
    interval: str = "15s",
    alertmanager: str | None = None,
    keep: dict[str, str] | None = None,
) -> dict[str, Any]:
    """compose's configuration with local targets; `keep` keeps only series whose label
    matches (e.g. `{"vhost": "test"}`: a test's own vhost on a shared broker)."""
    config = yaml.safe_load(COMPOSE_CONFIG.read_text(encoding="utf-8"))
    config["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(path) for path in rules]
    if alertmanager is None:
        del config["alerting"]
    else:
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [alertmanager]
    addresses = {"tracker": targets, "rabbitmq": [rabbitmq], "rabbitmq-queues": [rabbitmq]}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": addresses[job["job_name"]]}]
        if keep and job["job_name"] == "rabbitmq-queues":
            for label, value in keep.items():
                job["metric_relabel_configs"].append(
                    {"source_labels": [label], "regex": value, "action": "keep"}
                )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.monitoring.local")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rules", type=Path, action="append", required=True)
    parser.add_argument("--rabbitmq", required=True, help="the broker's Prometheus endpoint")
    parser.add_argument("--interval", default="15s")
    parser.add_argument("--alertmanager")
    parser.add_argument("targets", nargs="+", help="the services' host:port")
    args = parser.parse_args()
    config = local_config(args.targets, args.rabbitmq, args.rules, args.interval, args.alertmanager)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
