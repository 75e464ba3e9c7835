"""Reading the report's numbers from the running system (HTTP APIs and RabbitMQ's API)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from shared.domain.units import PREFECTURES, UNITS
from shared.ingress.topology import REJECTED_QUEUE
from tools.province.loader import vhost_path

UNIT_ORDER = [*PREFECTURES, "220581", "changbaishan", "changchun_new_area"]
PEEK_LIMIT = 20_000


@dataclass
class Sources:
    amqp_uri: str
    management_url: str
    tiering_url: str
    incubators_url: str
    key: str  # a key that reads the whole province: admin, service or the province's


def get(sources: Sources, url: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {sources.key}"}
    response = requests.get(url, params=params, headers=headers, timeout=600)  # slow scans
    response.raise_for_status()
    return response.json()


def rejections(sources: Sources) -> dict[str, Any]:
    """Rejected events by the field their reason names, peeked (and left) in the queue."""
    vhost = vhost_path(sources.amqp_uri)
    response = requests.post(
        f"{sources.management_url}/api/queues/{vhost}/{REJECTED_QUEUE}/get",
        json={
            "count": PEEK_LIMIT,
            "ackmode": "ack_requeue_true",
            "encoding": "auto",
            "truncate": 2000,
        },
        timeout=120,
    )
    if response.status_code == 404:
        return {"total": 0, "by_reason": {}}
    response.raise_for_status()
    by_reason: Counter = Counter()
    messages = response.json()
    for message in messages:
        headers = message.get("properties", {}).get("headers", {})
        try:
            reason = json.loads(headers.get("x-rejection-reason", "{}"))
        except ValueError:
            reason = {"unknown": []}
        by_reason.update(reason.keys() or ["unknown"])
    return {"total": len(messages), "by_reason": dict(by_reason.most_common())}


def collect(sources: Sources) -> dict[str, Any]:
    per_unit = {
        unit: get(sources, f"{sources.tiering_url}/v1/tiers/summary", unit=unit)["counts"]
        for unit in UNIT_ORDER
    }
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "unit_names": UNITS,
        "tiers_per_unit": per_unit,
        "tiers_total": get(sources, f"{sources.tiering_url}/v1/tiers/summary")["counts"],
        "tier_changes": get(sources, f"{sources.tiering_url}/v1/tiers/changes"),
        "progress": get(sources, f"{sources.incubators_url}/v1/progress"),
        "findings": get(sources, f"{sources.incubators_url}/v1/findings/summary"),
        "rejections": rejections(sources),
    }
