"""The Kubernetes manifests build with kustomize and validate offline: built-in kinds against
the Kubernetes schemas bundled by kubernetes-validate, custom resources against the CRDs of
their operators (strictly), plus the properties the deployment promises."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from tests.deploy.crds import crd_errors, crd_schemas
from tests.deploy.tools import DASHBOARDS, DEPLOY, kustomize_build

KUBERNETES_VERSION = "1.33"
TARGETS = ["base", "overlays/production", "overlays/production-hpa"]
SERVICES = {"registry", "tiering", "incubators", "notifications", "auth", "portal"}
# Longest handler time (seconds) each service's grace period must exceed (see the manifests).
SLOWEST_HANDLER = {
    "registry": 60,
    "tiering": 240,
    "incubators": 60,
    "notifications": 500,
    "auth": 20,
    "portal": 50,
}


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict]]:
    return {target: kustomize_build(DEPLOY / "k8s" / target) for target in TARGETS}


@pytest.fixture(scope="module")
def schemas() -> dict:
    return crd_schemas()


@pytest.mark.parametrize("target", TARGETS)
def test_every_resource_validates_offline(built, schemas, target):
    errors = []
    for doc in built[target]:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if (doc["apiVersion"], doc["kind"]) in schemas:
            errors += [f"{where}: {e}" for e in crd_errors(doc, schemas)]
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
    assert not errors, "\n".join(errors)


def kinds(docs: list[dict]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
    return out


def test_base_has_every_service_its_data_stores_and_monitoring(built):
    have = kinds(built["base"])
    assert have["Deployment"] == SERVICES
    assert have["Service"] >= SERVICES
    assert {"RabbitmqCluster", "MongoDBCommunity", "ServiceMonitor", "PrometheusRule"} <= set(have)
    assert "Secret" not in have, "Secrets are templates only (base/secrets.template.yaml)"
    assert all(
        d["metadata"].get("namespace") == "tracker"
        for t in TARGETS
        for d in built[t]
        if d["kind"] != "Namespace"
    )
    rabbit = next(d for d in built["base"] if d["kind"] == "RabbitmqCluster")
    assert rabbit["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
    mongo = next(d for d in built["base"] if d["kind"] == "MongoDBCommunity")
    assert (mongo["spec"]["members"], mongo["spec"]["type"]) == (3, "ReplicaSet")


@pytest.mark.parametrize("target", TARGETS)
def test_deployments_are_probed_limited_restricted_and_stop_gracefully(built, target):
    for doc in (d for d in built[target] if d["kind"] == "Deployment"):
        name, pod = doc["metadata"]["name"], doc["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert {"requests", "limits"} <= set(container["resources"]), name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"]
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert pod["terminationGracePeriodSeconds"] > SLOWEST_HANDLER[name], name
        assert container["command"][:2] == ["nameko", "run"], name  # exec form, nameko PID 1


def test_scaling_keda_in_production_and_the_hpa_alternative(built):
    keda = [d for d in built["overlays/production"] if d["kind"] == "ScaledObject"]
    assert {d["metadata"]["name"] for d in keda} == {"registry", "tiering", "incubators"}
    assert all(d["spec"]["triggers"][0]["type"] == "rabbitmq" for d in keda)
    assert "HorizontalPodAutoscaler" not in kinds(built["overlays/production"])
    hpa = kinds(built["overlays/production-hpa"])
    assert hpa["HorizontalPodAutoscaler"] == {"registry", "tiering", "incubators"}
    assert "ScaledObject" not in hpa


def test_dashboards_are_configmaps_of_the_same_json_files(built):
    maps = [
        d
        for d in built["base"]
        if d["kind"] == "ConfigMap"
        and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    shipped = {name: json.loads(text) for d in maps for name, text in d["data"].items()}
    assert shipped == {
        path.name: json.loads(path.read_text(encoding="utf-8")) for path in DASHBOARDS
    }
