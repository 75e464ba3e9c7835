"""docker-compose.yml validates against the Compose specification's JSON schema (from the
compose-go module; no Docker engine here), with the checks `docker compose config` would add
(references resolve, mounted files exist) and the promises of issue #8; the Dockerfile is
multi-stage, non-root and starts nameko in exec form."""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    stack = {"rabbitmq", "mongodb", "prometheus", "alertmanager", "grafana", "mailpit"}
    assert stack | set(SERVICES) <= set(services)
    assert "alertmanager" in services["prometheus"]["depends_on"]
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


def test_the_image_is_pinned_locked_and_checks_its_own_health():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    for base in re.findall(r"^FROM (\S+)", text, re.M):
        image = arguments.get(base.strip("${}"), base)
        assert re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", image), f"not pinned: {image}"
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in text
    assert "pip install --no-cache-dir --no-deps ." in text  # the project alone, after the lock
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (\[[^\n]+\])$", text, re.M | re.S)
    assert healthcheck and json.loads(healthcheck.group(1)) == [
        "python",
        "-m",
        "shared.probe",
        "live",
    ]


def locked(lock_file: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock file written by `make lock`: name -> (version, its hashes)."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / lock_file).read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
            pins[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return pins


def assert_pinned_within_ranges(pins: dict, requirements: list[str]) -> None:
    for line in requirements:
        requirement = Requirement(line)
        version, _ = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), f"{requirement} locked at {version}"
    assert all(hashes for _, hashes in pins.values()), "make lock writes --generate-hashes"


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_lock_pins_every_runtime_dependency_with_hashes():
    assert_pinned_within_ranges(locked("requirements.lock"), project()["dependencies"])


def test_the_test_lock_adds_the_test_extra_to_exactly_the_images_pins():
    """What `make venv` installs (tests, CI) runs the versions and files the image runs."""
    image, tests = locked("requirements.lock"), locked("requirements-test.lock")
    assert_pinned_within_ranges(
        tests, project()["dependencies"] + project()["optional-dependencies"]["test"]
    )
    differing = {
        name: (pin, tests.get(name)) for name, pin in image.items() if tests.get(name) != pin
    }
    assert not differing, differing


def test_make_venv_installs_the_hashed_test_lock_and_the_project_without_resolving():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^\$\(BIN\)/tracker:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the venv target's recipe"
    installs = re.findall(r"pip install (.+)", recipe.group(1))
    assert installs[1:] == [
        "--quiet --require-hashes -r requirements-test.lock",
        "--quiet --no-deps -e .",
    ], installs
    lock = re.search(r"^lock:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert lock and "-o requirements.lock" in lock.group(1)
    assert "--extra test --constraint requirements.lock -o requirements-test.lock" in lock.group(1)
