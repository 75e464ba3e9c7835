"""notifications' own metric families (bounded labels: channel, outcome, kind)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import Metric

from services.notifications.storage import Notifications
from shared.gauges import gauge

DELIVERIES = Counter(
    "tracker_alert_deliveries_total",
    "Alert delivery attempts by channel and outcome (sent, retried, dead_lettered).",
    ["channel", "outcome"],
)
ALERTS = Counter("tracker_alerts_total", "Alerts stored in unit inboxes, by kind.", ["kind"])


def storage_gauges(db: Any, config: dict[str, Any]) -> Iterable[Metric]:
    """Counted at most every GAUGES_MAX_AGE_SECONDS, not on every delivery round."""
    pending = Notifications(db).pending_count()
    yield gauge(
        "tracker_alert_deliveries_pending",
        "Deliveries waiting for their next attempt.",
        [],
        [((), pending)],
    )
