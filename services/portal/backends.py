"""The portal's reads and writes: nameko RPC to the other services (as nameko-examples'
gateway does), every call bounded in time, several started at once when a page needs them.
The portal owns no data; the only thing it keeps is a short cache of sessions' principals."""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import ReplyListener, RpcReply, ServiceProxy

from shared.cache import TtlCache
from shared.http import Problem
from shared.injection import Injects

SERVICES = ("auth", "registry", "tiering", "incubators", "notifications")
RPC_TIMEOUT_SECONDS = 10.0
DEFAULT_KEY_CACHE_SECONDS = 30.0


def unavailable(service: str) -> Problem:
    return Problem(
        503,
        "Service Unavailable",
        f"服务暂时不可用 / the {service} service did not answer; try again shortly",
    )


class Calls:
    """One worker's proxies (a repository.Backend). `start` sends a call, `wait` takes its
    answer; `call` does both."""

    def __init__(self, provider: Backends, worker_ctx: Any):
        self.provider = provider
        self.proxies = {
            name: ServiceProxy(worker_ctx, name, provider.rpc_reply_listener) for name in SERVICES
        }

    def start(self, service: str, method: str, *args: Any) -> tuple[str, RpcReply]:
        try:
            return service, getattr(self.proxies[service], method).call_async(*args)
        except UnknownService:
            raise unavailable(service) from None

    def wait(self, pending: tuple[str, RpcReply]) -> Any:
        service, reply = pending
        try:
            with eventlet.Timeout(RPC_TIMEOUT_SECONDS):
                return reply.result()
        except eventlet.Timeout:
            raise unavailable(service) from None

    def call(self, service: str, method: str, *args: Any) -> Any:
        return self.wait(self.start(service, method, *args))

    def gather(self, **calls: tuple[Any, ...]) -> dict[str, Any]:
        """`gather(a=("tiering", "counts", unit), ...)`: every call sent, then every answer."""
        pending = {name: self.start(*spec) for name, spec in calls.items()}
        return {name: self.wait(reply) for name, reply in pending.items()}

    def principal_of(self, key_id: str) -> dict[str, Any] | None:
        """The principal of a session's key while the key is active, cached like
        shared/auth.py caches keys (`AUTH_KEY_CACHE_SECONDS`)."""
        known, principal = self.provider.principals.get(key_id)
        if not known:
            principal = self.call("auth", "principal_of", key_id)
            self.provider.principals.put(key_id, principal, self.provider.key_seconds)
        return principal

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return bool(self.call("incubators", "incubates", incubator_id, uscc))


class Backends(Injects[Calls]):
    rpc_reply_listener = ReplyListener()

    def setup(self) -> None:
        configured = self.container.config.get("AUTH_KEY_CACHE_SECONDS")
        seconds = configured if configured not in (None, "") else DEFAULT_KEY_CACHE_SECONDS
        self.key_seconds = float(seconds)
        self.principals = TtlCache()

    def get_dependency(self, worker_ctx: Any) -> Calls:
        return Calls(self, worker_ctx)
