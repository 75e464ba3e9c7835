"""A pipeline's final state, in a form two runs of the same events can be compared in: every
stored document by its key with what legitimately differs between runs (clock readings,
per-run ids and the record versions that count re-applications) left out, plus what the
units received and what RabbitMQ still holds."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests

from shared.domain.units import PROVINCE, UNITS
from shared.ingress.topology import REJECTED_QUEUE
from shared.mongo import unpack
from tests.chaos.pipeline import Pipeline
from tools.province.loader import vhost_path
from tools.report import collect

# Clock readings, the version counter (it counts stored changes, so how events were batched
# and redelivered moves it) and the token each write leaves (shared/versioned.py).
VOLATILE = frozenset(("version", "since", "at", "evaluated_at", "created_at", "processed_at",
                      "claimed_at", "sent_at", "next_attempt_at", "loaded_at", "read_at",
                      "generated_at", "write_id", "resolved_at"))  # fmt: skip
# Parts stored as JSON text (shared.mongo.pack), compared as what they hold.
PACKED = {
    "registry.enterprises": ("parts",),
    "tiering.firms": ("snapshot", "explanation"),
    "tiering.tier_history": ("checks",),
    "incubators.firms": ("facts",),
}
# Compared by what they mean rather than as documents: per-run secrets and ids, the ledgers.
SPECIAL = {"api_keys", "subscriptions", "deliveries", "processed_events", "accepted_events"}
INBOX_PAGE = 200


def stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def documents(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """`{"registry.enterprises": {key: document}}` for every ordinary collection."""
    out = {}
    for service in pipeline.configs:
        db = pipeline.db(service)
        for name in sorted(db.list_collection_names()):
            if name in SPECIAL:
                continue
            packed = PACKED.get(f"{service}.{name}", ())
            out[f"{service}.{name}"] = {
                str(d.pop("_id")): stable(
                    {k: unpack(v) if k in packed else v for k, v in d.items()}
                )
                for d in db[name].find()
            }
    return out


def ledgers(pipeline: Pipeline) -> dict[str, dict[str, str]]:
    """Each service's processed (source, id) pairs and their state."""
    return {
        service: {d["_id"]: d["state"] for d in pipeline.db(service).processed_events.find()}
        for service in ("registry", "incubators")
    }


def webhooks(pipeline: Pipeline) -> dict[str, Any]:
    """What the receiver accepted: every request, and the distinct alerts (webhook-id)."""
    delivered = pipeline.receiver.delivered()
    per_unit_raw: Counter = Counter()
    ids: dict[str, str] = {}
    for delivery in delivered:
        unit = json.loads(delivery.body)["subject"]
        per_unit_raw[unit] += 1
        ids[delivery.headers["webhook-id"]] = unit
    return {
        "raw": len(delivered),
        "ids": ids,
        "raw_per_unit": dict(per_unit_raw),
        "unique_per_unit": dict(Counter(ids.values())),
        "requests_refused": len(pipeline.receiver.received) - len(delivered),
    }


def inboxes(pipeline: Pipeline) -> dict[str, list[str]]:
    """Every unit's inbox through `GET /v1/units/{unit}/alerts`, page by page."""
    out = {}
    headers = {"Authorization": f"Bearer {pipeline.admin_key}"}
    for unit in [*UNITS, PROVINCE]:
        ids, cursor = [], None
        while True:
            params = {"limit": INBOX_PAGE, **({"cursor": cursor} if cursor else {})}
            response = requests.get(
                f"{pipeline.url('notifications')}/v1/units/{unit}/alerts",
                params=params,
                headers=headers,
                timeout=60,
            )
            response.raise_for_status()
            page = response.json()
            ids += [item["id"] for item in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        out[unit] = ids
    return out


def queues(pipeline: Pipeline) -> dict[str, int]:
    """Messages left in the vhost's queues (parked ones included)."""
    url = f"{pipeline.rabbit.management_url}/api/queues/{vhost_path(pipeline.amqp_uri)}"
    return {q["name"]: q.get("messages", 0) for q in requests.get(url, timeout=30).json()}


def rejected_bodies(pipeline: Pipeline) -> Counter:
    """The rejected queue's bodies (peeked, left in place), each with how often it is there."""
    vhost = vhost_path(pipeline.amqp_uri)
    response = requests.post(
        f"{pipeline.rabbit.management_url}/api/queues/{vhost}/{REJECTED_QUEUE}/get",
        json={
            "count": collect.PEEK_LIMIT,
            "ackmode": "ack_requeue_true",
            "encoding": "auto",
            "truncate": 50_000,
        },
        timeout=120,
    )
    response.raise_for_status()
    return Counter(message["payload"] for message in response.json())


def deliveries(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """Each alert's delivery (one subscription per unit): state and attempts."""
    return {
        d["alert_id"]: {"state": d["state"], "attempts": d["attempts"]}
        for d in pipeline.db("notifications").deliveries.find()
    }


def capture(pipeline: Pipeline) -> dict[str, Any]:
    sources = collect.Sources(
        pipeline.amqp_uri,
        pipeline.rabbit.management_url,
        pipeline.url("tiering"),
        pipeline.url("incubators"),
        pipeline.admin_key,
    )
    return {
        "documents": documents(pipeline),
        "ledgers": ledgers(pipeline),
        "webhooks": webhooks(pipeline),
        "inboxes": inboxes(pipeline),
        "deliveries": deliveries(pipeline),
        "queues": queues(pipeline),
        "rejected": rejected_bodies(pipeline),
        "report": stable(collect.collect(sources)),
        "sent": dict(pipeline.sent),
        "faults": list(pipeline.faults),
        "seconds": dict(pipeline.seconds),
    }
