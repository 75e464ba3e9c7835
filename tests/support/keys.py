"""API keys for tests, issued by a real auth service over RPC (services check them through it).

`auth_service` runs the auth service in the test process (integration tests); `keys` issues
through whichever auth service runs on the test's vhost (in-process or a `nameko run` process).
"""

from __future__ import annotations

from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.auth.service import AuthService


class Keys:
    def __init__(self, config: dict[str, Any]):
        self.config = config

    def issue(self, kind: str, subject: str = "admin") -> str:
        with ClusterRpcProxy(self.config, timeout=30) as cluster:
            return str(cluster.auth.issue({"kind": kind, "subject": subject})["key"])

    def for_owner(self, owner: str) -> str:
        """A key for an owner as `tracker keys` names it: `admin`, a unit code, an incubator."""
        from services.auth.principals import legacy_owner

        found = legacy_owner(owner)
        return self.issue(found["kind"], found["subject"])

    def headers(self, kind: str, subject: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issue(kind, subject)}"}

    def call(self, method: str, *args: Any) -> Any:
        with ClusterRpcProxy(self.config, timeout=30) as cluster:
            return getattr(cluster.auth, method)(*args)


@pytest.fixture
def keys(service_config: dict[str, Any]) -> Keys:
    return Keys(service_config)


@pytest.fixture
def auth_service(container_factory: Any, config_for: Any) -> dict[str, Any]:
    """The auth service in this process, with a database of its own."""
    config = config_for("auth")
    container_factory(AuthService, config).start()
    return config


@pytest.fixture
def admin_headers(auth_service: dict[str, Any], keys: Keys) -> dict[str, str]:
    return keys.headers("admin")


ADMIN_READ: dict[str, str] = {}  # the running test's admin `Authorization` header


@pytest.fixture
def admin_reads(auth_service: dict[str, Any], keys: Keys) -> Any:
    """For modules whose helpers read the APIs as an administrator: fills ADMIN_READ."""
    ADMIN_READ.update(keys.headers("admin"))
    yield ADMIN_READ
    ADMIN_READ.clear()


@pytest.fixture
def auth_process(run_service: Any, config_for: Any, keys: Keys) -> Keys:
    """The auth service as a `nameko run` process (e2e tests); its keys."""
    run_service("auth", config_for("auth"))
    return keys
