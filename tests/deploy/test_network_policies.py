"""The NetworkPolicies, evaluated on the pods the system runs (their labels as the manifests
and the operators set them): each service reaches only the broker, the database and DNS
(notifications also addresses outside the cluster), everything else is denied, and a new
service gets the same policies from its labels alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.conftest import SERVICES

SERVICE = {"app.kubernetes.io/component": "service", "app.kubernetes.io/part-of": "tracker"}
PODS = {  # labels of the pods, as the manifests and the operators give them
    **{name: {**SERVICE, "app.kubernetes.io/name": name} for name in SERVICES},
    "portal": {**SERVICE, "app.kubernetes.io/name": "portal"},  # a service added later
    "rabbitmq": {
        "app.kubernetes.io/name": "rabbitmq",
        "app.kubernetes.io/component": "rabbitmq",
        "app.kubernetes.io/part-of": "rabbitmq",
    },
    "mongodb": {"app.kubernetes.io/name": "mongodb", "app.kubernetes.io/component": "database"},
    "mongodb-backup": {
        "app.kubernetes.io/name": "mongodb-backup",
        "app.kubernetes.io/component": "backup",
    },
}
DNS = ("namespace kube-system", "k8s-app=kube-dns")


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def peer(rule_peer: dict[str, Any]) -> tuple[str, ...]:
    """A peer of a rule, named: a pod of the namespace, pods elsewhere, or addresses."""
    if "ipBlock" in rule_peer:
        block = rule_peer["ipBlock"]
        return ("addresses", block["cidr"], *sorted(block.get("except", [])))
    pods = rule_peer.get("podSelector", {}).get("matchLabels", {})
    names = ",".join(f"{k}={v}" for k, v in sorted(pods.items()))
    if "namespaceSelector" in rule_peer:
        namespace = rule_peer["namespaceSelector"].get("matchLabels", {})
        where = namespace.get("kubernetes.io/metadata.name", "any namespace")
        return (f"namespace {where}", names) if names else (f"namespace {where}",)
    local = [pod for pod, labels in PODS.items() if selects(rule_peer["podSelector"], labels)]
    return ("pods", *sorted(local))


def allowed(policies: list[dict], pod: str, direction: str) -> set[tuple[str, ...]]:
    """Every peer the policies selecting `pod` allow in `direction` (Ingress or Egress)."""
    key = "egress" if direction == "Egress" else "ingress"
    side = "to" if direction == "Egress" else "from"
    peers: set[tuple[str, ...]] = set()
    for policy in policies:
        spec = policy["spec"]
        if direction in spec["policyTypes"] and selects(spec["podSelector"], PODS[pod]):
            for rule in spec.get(key, []):
                peers |= {peer(p) for p in rule.get(side, [])}
    return peers


@pytest.fixture(scope="module")
def policies(built) -> list[dict]:
    return [d for d in built["base"] if d["kind"] == "NetworkPolicy"]


def test_everything_is_denied_unless_allowed(policies):
    deny = next(p for p in policies if p["metadata"]["name"] == "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("service", sorted(SERVICES | {"portal"}))
def test_each_service_reaches_only_the_broker_and_the_database(policies, service):
    expected = {DNS, ("pods", "rabbitmq"), ("pods", "mongodb")}
    if service == "notifications":  # webhooks and e-mail, never private addresses
        private = (
            "10.0.0.0/8",
            "100.64.0.0/10",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
        )
        expected.add(("addresses", "0.0.0.0/0", *private))
    assert allowed(policies, service, "Egress") == expected


def test_the_data_stores_admit_only_their_clients(policies):
    services = ("pods", "auth", "incubators", "notifications", "portal", "registry", "tiering")
    assert allowed(policies, "rabbitmq", "Ingress") == {
        services,
        ("namespace keda",),
        ("namespace rabbitmq-system",),
        ("namespace monitoring",),
        ("pods", "rabbitmq"),
    }
    assert allowed(policies, "mongodb", "Ingress") == {
        services,
        ("pods", "mongodb-backup"),
        ("pods", "mongodb"),
        ("namespace monitoring",),
    }
    assert allowed(policies, "mongodb-backup", "Egress") == {DNS, ("pods", "mongodb")}
    assert allowed(policies, "mongodb-backup", "Ingress") == set()
