"""Bearer keys for every service: `access = Access()` resolves a request's
`Authorization: Bearer <key>` to its principal through the auth service's `verify` RPC, and
tells whether an incubator incubates a firm through the incubators service's `incubates` RPC.

Answers are cached in the process, so a page of reads costs no round trip per request: a
valid key for `AUTH_KEY_CACHE_SECONDS` (config, default 30 s), an invalid one for
KEY_INVALID_SECONDS (3 s), an incubation for INCUBATION_SECONDS (10 s). So a revoked key stops
working everywhere within 30 s, and a firm admitted or ended shows in (or leaves) a carrier's
reach within 10 s. If a service cannot be asked within RPC_TIMEOUT_SECONDS the request gets
503, never a guess."""

from __future__ import annotations

import hashlib
from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import ReplyListener, ServiceProxy

from shared import scope
from shared.cache import TtlCache
from shared.http import Problem
from shared.injection import Injects

KEY_VALID_SECONDS = 30.0
KEY_INVALID_SECONDS = 3.0
INCUBATION_SECONDS = 10.0
RPC_TIMEOUT_SECONDS = 5.0
Principal = dict[str, Any]


def unauthorized() -> Problem:
    return Problem(
        401,
        "Unauthorized",
        "a valid key is required: Authorization: Bearer <key>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def presented_token(request: Any) -> str:
    """The key in the request's `Authorization: Bearer <key>`, or ''."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def ask(proxy: ServiceProxy, method: str, *args: Any) -> Any:
    """One RPC call, bounded in time; 503 when the service is missing or does not answer."""
    try:
        with eventlet.Timeout(RPC_TIMEOUT_SECONDS):
            return getattr(proxy, method).call_async(*args).result()
    except (eventlet.Timeout, UnknownService):
        raise Problem(
            503, "Service Unavailable", f"the {proxy.service_name} service did not answer"
        ) from None


class Gate:
    """What one worker uses: `principal(request)`, `verify(token)`, `incubates(id, uscc)` and
    the scope checks that need them (shared/scope.py holds the rest)."""

    def __init__(self, access: Access, worker_ctx: Any):
        self.access = access
        self.auth = ServiceProxy(worker_ctx, "auth", access.rpc_reply_listener)
        self.incubators = ServiceProxy(worker_ctx, "incubators", access.rpc_reply_listener)

    def verify(self, token: str) -> Principal | None:
        cache_key = hashlib.sha256(token.encode()).digest()  # no key text kept in memory
        known, principal = self.access.keys.get(cache_key)
        if not known:
            principal = ask(self.auth, "verify", token)
            seconds = self.access.valid_seconds if principal else KEY_INVALID_SECONDS
            self.access.keys.put(cache_key, principal, seconds)
        return principal

    def principal(self, request: Any) -> Principal:
        """The request's principal, or a 401 problem."""
        token = presented_token(request)
        principal = self.verify(token) if token else None
        if principal is None:
            raise unauthorized()
        return principal

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        known, answer = self.access.incubations.get((incubator_id, uscc))
        if not known:
            answer = bool(ask(self.incubators, "incubates", incubator_id, uscc))
            self.access.incubations.put((incubator_id, uscc), answer, INCUBATION_SECONDS)
        return answer

    def firm(self, principal: Principal, unit: str | None, uscc: str) -> None:
        scope.require_firm(principal, unit, uscc, self.incubates)


class Access(Injects[Gate]):
    """Injects a `Gate`; the caches are the container's, shared by its workers."""

    rpc_reply_listener = ReplyListener()

    def setup(self) -> None:
        configured = self.container.config.get("AUTH_KEY_CACHE_SECONDS")
        self.valid_seconds = float(
            configured if configured not in (None, "") else KEY_VALID_SECONDS
        )
        self.keys = TtlCache()
        self.incubations = TtlCache()

    def get_dependency(self, worker_ctx: Any) -> Gate:
        return Gate(self, worker_ctx)
