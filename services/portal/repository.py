"""What the portal's pages need from the services it reads (backends.Calls over nameko RPC;
tests/support/fakes/portal.py in memory). The portal owns no data: its storage is the other
services' read-only RPC methods (and incubators' `submit_events`, notifications'
`mark_alerts_read`)."""

from __future__ import annotations

from typing import Any, Protocol


class Backend(Protocol):
    def call(self, service: str, method: str, *args: Any) -> Any:
        """One call, bounded in time (503 when the service does not answer)."""

    def gather(self, **calls: tuple[Any, ...]) -> dict[str, Any]:
        """`gather(a=("tiering", "counts", unit), ...)`: every call sent, then every answer."""

    def principal_of(self, key_id: str) -> dict[str, Any] | None:
        """The principal of a session's key while the key is active."""

    def incubates(self, incubator_id: str, uscc: str) -> bool: ...
