"""The nameko container every service runs in (`SERVICE_CONTAINER_CLS` in its config.yaml)."""

from __future__ import annotations

import logging.config
from typing import Any

from nameko.containers import ServiceContainer

from shared.config import resolve, with_common
from shared.domain import uscc


class TrackerContainer(ServiceContainer):
    """Completes the config before any extension of the service reads it, since `nameko run`
    loads only the service's own YAML: merges the settings every service shares
    (services/common.yaml) under it, resolves secrets from mounted files and broker TLS, and
    installs the approved USCC overrides, so a bad approval list stops the service at start,
    not at its first event.

    `nameko run` configures logging from the file it is given, before any container exists;
    when that file had no LOGGING (the service files leave it to the common one), the
    container applies the common LOGGING here, as its first act."""

    def __init__(self, service_cls: type, config: dict[str, Any]):
        settings = with_common(config)
        if "LOGGING" not in config and settings.get("LOGGING"):
            logging.config.dictConfig(settings["LOGGING"])
        resolved = resolve(settings)
        uscc.install_overrides(uscc.parse_overrides(resolved.get("USCC_OVERRIDES")))
        super().__init__(service_cls, resolved)
