"""The services the portal reads, in memory (a portal Backend): each (service, method) answers
from a function the test gives, and every call is recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Answer = Callable[..., Any]


class FakeBackend:
    def __init__(self, answers: dict[tuple[str, str], Answer] | None = None):
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []

    def call(self, service: str, method: str, *args: Any) -> Any:
        self.calls.append((service, method, args))
        if (service, method) not in self.answers:
            raise AssertionError(f"unexpected call {service}.{method}{args}")
        return self.answers[(service, method)](*args)

    def gather(self, **calls: tuple[Any, ...]) -> dict[str, Any]:
        return {name: self.call(*spec) for name, spec in calls.items()}

    def principal_of(self, key_id: str) -> dict[str, Any] | None:
        return self.call("auth", "principal_of", key_id)

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return bool(self.call("incubators", "incubates", incubator_id, uscc))

    def called(self, service: str, method: str) -> list[tuple[Any, ...]]:
        return [args for s, m, args in self.calls if (s, m) == (service, method)]
