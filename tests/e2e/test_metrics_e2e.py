"""The four services as real processes, a small province through them, then their scrapes:
every metric family of issues #8 and #20 is there, and every metric name used by a dashboard
or a rule of alerts.yml exists in a live scrape of the services or of RabbitMQ's Prometheus
plugin, or is recorded by a rule."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from services.notifications.signing import new_secret
from shared.domain.units import PROVINCE, UNITS
from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE, Publisher
from tests.deploy.promql import all_exprs, metric_names, recorded_names
from tests.support.waiting import wait_for
from tools.province import generator, loader

pytestmark = pytest.mark.e2e
SERVICES = ("auth", "registry", "tiering", "incubators", "notifications")
RABBITMQ_METRICS_PORT = 15692
USCC_LIKE = re.compile(r"[0-9A-Z]{18}")
CONSUMERS = ("registry", "tiering", "incubators", "notifications")
SERVING = {"tracker_build_info", "tracker_entrypoint_duration_seconds"}  # every service
EVERY_SERVICE = {  # every service that consumes events
    *SERVING,
    "tracker_events_consumed_total",
    "tracker_last_event_processed_timestamp_seconds",
    "tracker_retries_pending",
    "tracker_dead_letters_parked",
    "tracker_queue_oldest_event_age_seconds",
    "tracker_event_latency_seconds",
    "tracker_dependency_up",
}
OWN = {
    "auth": set(),  # it answers RPC (verify) only: the entrypoint histogram shows it
    "registry": set(),
    "tiering": {"tracker_firms", "tracker_tier_changes_total"},
    "incubators": {
        "tracker_carriers",
        "tracker_incubatees_current",
        "tracker_incubatees_cumulative",
        "tracker_incubatees_graduated",
        "tracker_progress_ratio",
        "tracker_progress_actual",
        "tracker_progress_target",
        "tracker_findings",
        "tracker_entrypoint_errors_total",
    },
    "notifications": {
        "tracker_alert_deliveries_total",
        "tracker_alert_deliveries_pending",
        "tracker_alerts_total",
    },
}


def scrape(url: str) -> dict[str, list]:
    """Family name -> its samples (only families with at least one sample)."""
    text = requests.get(url, timeout=30).text
    families = {f.name: f.samples for f in text_string_to_metric_families(text) if f.samples}
    # counters are named without `_total` by the parser; keep both spellings
    return {
        **families,
        **{f"{n}_total": s for n, s in families.items() if any(x.name == f"{n}_total" for x in s)},
    }


def sample_names(families: dict[str, list]) -> set[str]:
    return {sample.name for samples in families.values() for sample in samples} | set(families)


@pytest.fixture
def services(run_service, config_for, smtp_sink, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("GAUGES_MAX_AGE_SECONDS", "1")  # the loader scrapes while loading
    configs = {name: config_for(name) for name in SERVICES}
    return {name: run_service(name, config) for name, config in configs.items()}, configs


def subscribe_every_unit(admin, base_url, dead_url):
    """An e-mail (delivered) and a webhook to a closed port (failing) for every unit."""
    for unit in [*UNITS, PROVINCE]:
        for body in (
            {"channel": "email", "address": f"ops-{unit}@tracker.test"},
            {"channel": "webhook", "url": dead_url, "secret": new_secret()},
        ):
            created = requests.post(
                f"{base_url}/v1/admin/subscriptions",
                timeout=10,
                json={"unit": unit, **body},
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert created.status_code == 201, created.text


def test_every_metric_family_and_every_name_in_dashboards_and_rules_exists(
    services, servers, tmp_path, keys
):
    running, configs = services
    amqp = configs["registry"]["AMQP_URI"]
    subscribe_every_unit(
        keys.issue("admin"), running["notifications"].base_url, "http://127.0.0.1:9/closed"
    )
    province = generator.Generator(2025, firms=60, carriers=4, incubated=30).generate()
    generator.write(province, tmp_path / "province")
    events, incubators, _truth = generator.read(tmp_path / "province")
    carrier_keys = {
        c["incubator_id"]: keys.issue("incubator", c["incubator_id"])
        for c in incubators["carriers"]
    }
    endpoints = loader.Endpoints(
        amqp, servers.rabbit_api_uri, *(running[s].base_url for s in loader.SERVICE_ORDER)
    )
    assert loader.load(endpoints, events, incubators, carrier_keys, timeout=300)["drained"]

    publisher = Publisher(amqp)  # duplicates of the first registrations, and an invalid event
    try:
        for body in [e for e in events if b'"enterprise.registered"' in e][:5]:
            publisher.publish(body, "enterprise.registered", INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
        publisher.publish(b"{not json", "enterprise.registered", INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
    finally:
        publisher.close()
    with ClusterRpcProxy(configs["incubators"], timeout=30) as cluster, pytest.raises(RemoteError):
        cluster.incubators.sweep("not-a-date")  # a real entrypoint error

    def consumed(service: str) -> set[str]:
        samples = scrape(f"{running[service].base_url}/metrics").get(
            "tracker_events_consumed_total", []
        )
        return {s.labels["outcome"] for s in samples if s.name.endswith("_total")}

    wait_for(
        lambda: {"processed", "duplicate", "rejected"} <= consumed("registry"),
        timeout=30,
        what="registry to count the duplicate and the rejection",
    )
    wait_for(
        lambda: (
            {"sent", "retried"}
            <= {
                s.labels["outcome"]
                for s in scrape(f"{running['notifications'].base_url}/metrics").get(
                    "tracker_alert_deliveries_total", []
                )
                if s.name.endswith("_total")
            }
        ),
        timeout=60,
        what="alert deliveries sent (e-mail) and failing (webhook)",
    )

    scrapes = {name: scrape(f"{running[name].base_url}/metrics") for name in SERVICES}
    for name, families in scrapes.items():
        expected = EVERY_SERVICE if name in CONSUMERS else SERVING
        missing = (expected | OWN[name]) - set(families)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert name not in CONSUMERS or "processed" in consumed(name), name
    unbounded = [
        (sample.name, sample.labels)
        for families in scrapes.values()
        for samples in families.values()
        for sample in samples
        for value in sample.labels.values()
        if USCC_LIKE.fullmatch(value) or value.startswith("JL-INC")
    ]
    assert not unbounded, f"an id as a label value: {unbounded[:3]}"

    summary = requests.get(
        f"{running['tiering'].base_url}/v1/tiers/summary", headers=keys.headers("admin"), timeout=30
    ).json()
    assert sum(s.value for s in scrapes["tiering"]["tracker_firms"]) == summary["total"] > 0
    ratios = {s.labels["target"]: s.value for s in scrapes["incubators"]["tracker_progress_ratio"]}
    assert {"carriers", "incubated_firms", "tech_smes_registered"} <= set(ratios)

    rabbit = urlsplit(servers.rabbit_api_uri)
    broker = {  # both endpoints Prometheus scrapes: the node's own, and per queue
        path: scrape(f"http://{rabbit.hostname}:{RABBITMQ_METRICS_PORT}{path}")
        for path in ("/metrics", "/metrics/per-object")
    }
    known = set().union(*(sample_names(f) for f in [*scrapes.values(), *broker.values()]))
    known.add("up")  # made by Prometheus for every target, never exported
    known |= recorded_names()  # series the rules record
    used = {name: where for where, expr in all_exprs() for name in metric_names(expr)}
    unknown = {name: where for name, where in used.items() if name not in known}
    assert not unknown, f"metrics used but never exported: {unknown}"
