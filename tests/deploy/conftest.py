"""The Kubernetes builds, made once per test session (kustomize runs in a few seconds)."""

from __future__ import annotations

import pytest

from tests.deploy.crds import crd_schemas
from tests.deploy.tools import DEPLOY, kustomize_build

KUBERNETES_VERSION = "1.33"
TARGETS = ["base", "overlays/production", "overlays/production-hpa"]
SERVICES = {"registry", "tiering", "incubators", "notifications", "auth", "portal"}


@pytest.fixture(scope="session")
def built() -> dict[str, list[dict]]:
    return {target: kustomize_build(DEPLOY / "k8s" / target) for target in TARGETS}


@pytest.fixture(scope="session")
def schemas() -> dict:
    return crd_schemas()


def kinds(docs: list[dict]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
    return out


def named(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]
