"""The Kubernetes manifests build with kustomize and validate offline: built-in kinds against
the Kubernetes schemas bundled by kubernetes-validate, custom resources against the CRDs of
their operators (strictly), plus the properties the deployment promises."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from shared.events import SUBSCRIPTIONS
from shared.ingress.topology import INGRESS_FAMILIES, queue_name
from tests.deploy.conftest import KUBERNETES_VERSION, SERVICES, TARGETS, kinds, named
from tests.deploy.crds import crd_errors
from tests.deploy.tools import DASHBOARDS

# Longest handler time (seconds) each service's grace period must exceed (see the manifests).
SLOWEST_HANDLER = {
    "registry": 60,
    "tiering": 240,
    "incubators": 60,
    "notifications": 500,
    "auth": 20,
    "portal": 50,
}


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
    assert all(t["type"] == "rabbitmq" for d in keda for t in d["spec"]["triggers"])
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


def consumed_queues() -> dict[str, set[str]]:
    """Every queue each service consumes: its ingress queue, its internal subscriptions."""
    queues: dict[str, set[str]] = {service: {queue_name(service)} for service in INGRESS_FAMILIES}
    for subscription in SUBSCRIPTIONS:
        queues.setdefault(subscription.service, set()).add(subscription.queue_name)
    return queues


def test_keda_scales_every_consumer_on_every_queue_it_consumes(built):
    docs = built["overlays/production"]
    triggers = {
        d["spec"]["scaleTargetRef"]["name"]: {
            t["metadata"]["queueName"] for t in d["spec"]["triggers"]
        }
        for d in docs
        if d["kind"] == "ScaledObject"
    }
    single = {"notifications"}  # one replica: its delivery timer does not claim deliveries
    assert triggers == {s: q for s, q in consumed_queues().items() if s not in single}
    assert named(docs, "Deployment", "notifications")["spec"]["replicas"] == 1


@pytest.mark.parametrize("target", ["overlays/production", "overlays/production-hpa"])
def test_no_fixed_replicas_where_an_autoscaler_owns_them(built, target):
    docs = built[target]
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in docs
        if d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")
    }
    assert scaled == {"registry", "tiering", "incubators"}
    for name in scaled:
        assert "replicas" not in named(docs, "Deployment", name)["spec"], name


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_are_mounted_files_never_environment_variables(built, target):
    for doc in (d for d in built[target] if d["kind"] == "Deployment"):
        name, pod = doc["metadata"]["name"], doc["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert all("secretRef" not in source for source in container.get("envFrom", [])), name
        assert all("valueFrom" not in variable for variable in container["env"]), name
        files: set[str] = set()
        for volume in pod["volumes"]:
            if "secret" in volume:
                mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
                assert mount["readOnly"] and volume["secret"]["defaultMode"] == 0o440, name
                items = volume["secret"]["items"]  # only the keys it needs
                files |= {f"{mount['mountPath']}/{item['path']}" for item in items}
        wanted = {v["name"]: v["value"] for v in container["env"] if v["name"].endswith("_FILE")}
        assert {"AMQP_URI_FILE", "MONGODB_URI_FILE"} <= set(wanted), name
        assert set(wanted.values()) <= files, name
        if name == "notifications":
            assert {"SMTP_USERNAME_FILE", "SMTP_PASSWORD_FILE"} <= set(wanted)


def test_monitoring_resources_carry_the_label_kube_prometheus_stack_selects(built):
    for doc in built["base"]:
        if doc["kind"] in ("ServiceMonitor", "PrometheusRule"):
            assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack", doc
    monitors = kinds(built["base"])["ServiceMonitor"]
    assert monitors == {"tracker", "rabbitmq", "mongodb"}
