"""Service configuration: nameko YAML files with `${ENV:default}` substitution, then secrets
read from mounted files and TLS settings derived (`resolve`).

Each service's `services/<name>/config.yaml` holds what is its own; `services/common.yaml`
holds what every service shares, merged under it (`with_common`) by the container `nameko run`
starts (shared.container) and by `load_service_config`. The same files feed `nameko run
--config`, the `tracker` command and the tests, so there is one place where every address
(broker, database, ports, SMTP) is named and can be overridden.

Secrets: a `<key>_FILE` (or `<key>_file`) beside `<key>` names a file whose contents replace
`<key>`: `AMQP_URI_FILE=/run/secrets/amqp_uri` (a Kubernetes or Docker secret) keeps the broker's
credentials out of the environment. TLS: an `amqps://` broker URI turns TLS on for every broker
connection, verified against the system's CAs (or `AMQP_TLS_CA`) and the URI's host name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from nameko.cli.main import setup_yaml_parser

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
COMMON_CONFIG = SERVICES_DIR / "common.yaml"
FILE_SUFFIXES = ("_FILE", "_file")
AMQP_TLS_OPTIONS = {"ca": "ca_certs", "cert": "certfile", "key": "keyfile"}


class ConfigError(ValueError):
    """A setting cannot be used; the message names the setting, never a secret's contents."""


def config_path(service: str) -> Path:
    """The YAML file of one service (`services/<service>/config.yaml`)."""
    return SERVICES_DIR / service / "config.yaml"


def read_secret(setting: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {type(exc).__name__}") from None


def with_secret_files(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every `<key>_FILE: path` beside a `<key>` replaced by `<key>: <contents of path>`."""
    resolved: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            value = with_secret_files(value)
        base = next((key[: -len(s)] for s in FILE_SUFFIXES if key.endswith(s)), None)
        if base is not None and base in config:
            if value:
                resolved[base] = read_secret(key, str(value))
            continue
        resolved.setdefault(key, value)
    return resolved


def amqp_ssl(uri: str, tls: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """kombu/py-amqp TLS options for an `amqps://` URI (None for plain `amqp://`)."""
    parts = urlsplit(uri)
    if parts.scheme != "amqps":
        return None
    options: dict[str, Any] = {"server_hostname": parts.hostname}
    given = tls or {}
    for name, option in AMQP_TLS_OPTIONS.items():
        if given.get(name):
            options[option] = str(given[name])
    return options


def resolve(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as services use it: secrets read from their files, broker TLS derived."""
    resolved = with_secret_files(config)
    ssl = amqp_ssl(str(resolved.get("AMQP_URI") or ""), resolved.pop("AMQP_TLS", None))
    if ssl is not None:
        resolved["AMQP_SSL"] = ssl  # nameko's own setting, read by all its AMQP extensions
    return resolved


def from_env(name: str, default: str) -> str:
    """An environment setting for the `tracker` command, honouring `<NAME>_FILE` too."""
    path = os.environ.get(f"{name}_FILE")
    return read_secret(f"{name}_FILE", path) if path else os.environ.get(name, default)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A nameko YAML config as `nameko run --config` reads it: `${NAME:default}` substituted
    from the environment, nothing else done."""
    setup_yaml_parser()  # registers nameko's !env_var resolver on yaml.SafeLoader; idempotent
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def with_common(config: Mapping[str, Any]) -> dict[str, Any]:
    """A service's own settings over the ones every service shares (`services/common.yaml`,
    read now, so from the environment as it is now): a key of the service's replaces the
    common one whole."""
    return {**read_yaml(COMMON_CONFIG), **config}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read one nameko YAML config, substituting `${NAME:default}` from the environment."""
    return resolve(read_yaml(path))


def load_service_config(service: str) -> dict[str, Any]:
    """A service's settings as its container sees them: its own over the common ones."""
    return resolve(with_common(read_yaml(config_path(service))))
