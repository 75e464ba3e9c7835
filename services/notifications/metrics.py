"""notifications' own metric families (bounded labels: channel and outcome only)."""

from prometheus_client import Counter, Gauge

DELIVERIES = Counter(
    "tracker_alert_deliveries_total",
    "Alert delivery attempts by channel and outcome (sent, retried, dead_lettered).",
    ["channel", "outcome"],
)
PENDING = Gauge("tracker_alert_deliveries_pending", "Deliveries waiting for their next attempt.")
ALERTS = Counter("tracker_alerts_total", "Alerts stored in unit inboxes, by kind.", ["kind"])
