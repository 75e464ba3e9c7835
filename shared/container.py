"""The nameko container every service runs in (`SERVICE_CONTAINER_CLS` in its config.yaml)."""

from __future__ import annotations

from typing import Any

from nameko.containers import ServiceContainer

from shared import uscc
from shared.config import resolve


class TrackerContainer(ServiceContainer):
    """Resolves the config (secrets from mounted files, broker TLS) before any extension of
    the service reads it, since `nameko run` loads the YAML itself; installs the approved USCC
    overrides, so a bad approval list stops the service at start, not at its first event."""

    def __init__(self, service_cls: type, config: dict[str, Any]):
        resolved = resolve(config)
        uscc.install_overrides(uscc.parse_overrides(resolved.get("USCC_OVERRIDES")))
        super().__init__(service_cls, resolved)
