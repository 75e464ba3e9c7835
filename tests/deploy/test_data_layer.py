"""RabbitMQ and MongoDB as their operators run them: disruption budgets, one node per member,
resources, the application's users as resources, the quorum dead-letter policy, MongoDB's
RBAC, exporter and backups. Fields the operators merge without a schema (MongoDB's StatefulSet
override) are validated as the Pod they become."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest

from shared.config import load_service_config
from shared.retries import RetryPlan
from tests.deploy.conftest import KUBERNETES_VERSION, SERVICES, named


@pytest.fixture(scope="module")
def base(built) -> list[dict]:
    return built["base"]


def budget_selects(docs: list[dict], name: str) -> dict:
    budget = named(docs, "PodDisruptionBudget", name)
    assert budget["spec"]["maxUnavailable"] == 1  # never a minimum a single replica blocks
    return budget["spec"]["selector"]["matchLabels"]


def test_rabbitmq_cluster_budget_and_timestamps(base):
    cluster = named(base, "RabbitmqCluster", "rabbitmq")
    config = cluster["spec"]["rabbitmq"]["additionalConfig"]
    assert "default_queue_type = quorum" in config
    assert "message_interceptors.incoming.set_header_timestamp.overwrite = true" in config
    affinity = cluster["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert affinity[0]["topologyKey"] == "kubernetes.io/hostname"
    assert budget_selects(base, "rabbitmq") == {"app.kubernetes.io/name": "rabbitmq"}


def test_the_application_user_and_its_permissions_are_resources(base):
    user = named(base, "User", "tracker")
    assert user["spec"]["importCredentialsSecret"] == {"name": "rabbitmq-tracker-user"}
    permission = named(base, "Permission", "tracker")["spec"]
    assert permission["userReference"] == {"name": "tracker"} and permission["vhost"] == "/"
    assert set(permission["permissions"]) == {"configure", "write", "read"}


def test_the_retry_queues_dead_letter_at_least_once(base):
    policy = named(base, "Policy", "retry-queues")["spec"]
    assert policy["applyTo"] == "quorum_queues"
    assert policy["definition"] == {
        "dead-letter-strategy": "at-least-once",
        "overflow": "reject-publish",  # at-least-once needs it
    }
    pattern = re.compile(policy["pattern"])
    plan = RetryPlan("evt-registry-enterprise_updated--tiering.on_enterprise_updated")
    *delays, dead = [queue.name for queue in plan.queues()]
    assert delays and all(pattern.search(name) for name in delays)
    assert not pattern.search(dead) and not pattern.search(plan.queue_name)


def test_mongodb_members_have_resources_one_node_each_and_a_budget(base):
    spec = named(base, "MongoDBCommunity", "mongodb")["spec"]
    template = spec["statefulSet"]["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    anti = template["spec"]["affinity"]["podAntiAffinity"]
    required = anti["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert required["topologyKey"] == "kubernetes.io/hostname"
    assert required["labelSelector"]["matchLabels"].items() <= pod_labels.items()
    containers = {c["name"]: c for c in template["spec"]["containers"]}
    assert {"mongod", "mongodb-agent", "mongodb-exporter"} <= set(containers)
    assert containers["mongod"]["resources"]["limits"]["memory"] == "4Gi"  # not 500 Mi
    assert budget_selects(base, "mongodb").items() <= pod_labels.items()


def test_mongodbs_statefulset_override_is_a_valid_pod(base):
    """The operator merges this override into its own StatefulSet without a schema: validated
    here as the Pod it becomes (the operator supplies the images of its own containers)."""
    template = named(base, "MongoDBCommunity", "mongodb")["spec"]["statefulSet"]["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "mongodb-0", **template["metadata"]},
        "spec": {
            **template["spec"],
            "containers": [
                {"image": "supplied-by-the-operator", **c} for c in template["spec"]["containers"]
            ],
        },
    }
    kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)


def test_the_operators_pods_have_their_service_account_and_role(base):
    role = named(base, "Role", "mongodb-database")
    assert {"secrets", "pods"} == {r for rule in role["rules"] for r in rule["resources"]}
    binding = named(base, "RoleBinding", "mongodb-database")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "mongodb-database", "namespace": "tracker"}
    ]
    named(base, "ServiceAccount", "mongodb-database")


def test_the_tracker_user_may_use_every_services_database(base):
    users = {u["name"]: u for u in named(base, "MongoDBCommunity", "mongodb")["spec"]["users"]}
    granted = {r["db"] for r in users["tracker"]["roles"] if r["name"] == "readWrite"}
    configs = [load_service_config(s) for s in SERVICES]
    assert granted == {c["MONGODB_DATABASE"] for c in configs if "MONGODB_DATABASE" in c}
    assert {"name": "backup", "db": "admin"} in users["backup"]["roles"]
    assert {"name": "clusterMonitor", "db": "admin"} in users["metrics"]["roles"]


def test_the_exporter_is_scraped(base):
    service = named(base, "Service", "mongodb-metrics")
    monitor = named(base, "ServiceMonitor", "mongodb")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_a_nightly_mongodump_goes_to_a_volume_of_its_own(base):
    job = named(base, "CronJob", "mongodb-backup")["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    command = " ".join(pod["containers"][0]["args"])
    assert "mongodump --config=/run/secrets/backup/config.yaml --oplog" in command
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes["backup"]["persistentVolumeClaim"]["claimName"]
    named(base, "PersistentVolumeClaim", claim)
    assert volumes["config"]["secret"]["secretName"] == "mongodb-backup-config"
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
