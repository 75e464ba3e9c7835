"""The deployment tools the tests use, installed (and cached) by scripts/ensure-ops-tools.sh."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MONITORING = DEPLOY / "monitoring"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
RULES = MONITORING / "prometheus" / "alerts.yml"  # compose, `make run`, Kubernetes
KUBERNETES_RULES = MONITORING / "prometheus" / "kubernetes-alerts.yml"  # Kubernetes only
RUNBOOKS = ROOT / "docs" / "runbooks"


@cache
def tools() -> dict[str, Path]:
    """`KUSTOMIZE`, `SCHEMAS`, `PROMTOOL`, `PROMETHEUS`, `AMTOOL`, installing them on first use
    (a no-op when cached)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "ensure-ops-tools.sh")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"scripts/ensure-ops-tools.sh failed:\n{done.stderr}"
    return {k: Path(v) for k, v in (line.split("=", 1) for line in done.stdout.split())}


def kustomize_build(directory: Path) -> list[dict]:
    done = subprocess.run(
        [str(tools()["KUSTOMIZE"]), "build", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"kustomize build {directory}:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def schema_file(name: str) -> Path:
    return tools()["SCHEMAS"] / name
