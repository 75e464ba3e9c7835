"""Service configuration: nameko YAML files with `${ENV:default}` substitution.

The same files feed `nameko run --config`, the `tracker` command and the tests, so there is one
place where every address (broker, database, ports, SMTP) is named and can be overridden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nameko.cli.main import setup_yaml_parser

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def config_path(service: str) -> Path:
    """The YAML file of one service (`services/<service>/config.yaml`)."""
    return SERVICES_DIR / service / "config.yaml"


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a nameko YAML config, substituting `${NAME:default}` from the environment."""
    setup_yaml_parser()  # registers nameko's !env_var resolver on yaml.SafeLoader; idempotent
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load_service_config(service: str) -> dict[str, Any]:
    return load_config(config_path(service))
