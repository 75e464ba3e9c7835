"""docker-compose.yml validates against the Compose specification's JSON schema (from the
compose-go module; no Docker engine here), with the checks `docker compose config` would add
(references resolve, mounted files exist) and the promises of issue #8; the Dockerfile is
multi-stage, non-root and starts nameko in exec form."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from tests.deploy.tools import ROOT, schema_file

SERVICES = ("registry", "tiering", "incubators", "notifications", "auth", "portal")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_compose_file_validates_against_the_compose_spec(compose):
    schema = json.loads(schema_file("compose-spec.json").read_text(encoding="utf-8"))
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_references_resolve_and_mounted_files_exist(compose):
    services, volumes = compose["services"], set(compose.get("volumes", {}))
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in volumes, f"{name} uses undeclared volume {source}"


def test_the_whole_system_is_there_with_health_checks(compose):
    services = compose["services"]
    assert {"rabbitmq", "mongodb", "prometheus", "grafana", "mailpit", *SERVICES} <= set(services)
    assert "rabbitmq_prometheus" in (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert services["mongodb"]["image"].startswith("mongo:")
    for name in SERVICES:
        service = services[name]
        assert service["build"] == "." and service["image"] == "tracker:latest", name
        assert service["command"][:2] == ["nameko", "run"], name  # exec form
        needs = {"rabbitmq"} if name == "portal" else {"rabbitmq", "mongodb"}  # no database
        assert needs <= set(service["depends_on"]), name
        assert "healthcheck" in service and "stop_grace_period" in service, name
    assert services["notifications"]["environment"]["SMTP_HOST"] == "mailpit"
    assert all("healthcheck" in s for s in services.values())


def test_the_dockerfile_is_multi_stage_non_root_and_exec_form():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    command = re.findall(r"^CMD (.+)$", text, re.M)[-1]
    assert json.loads(command)[:2] == ["nameko", "run"]
