"""Dependency providers that say what they inject, so the type checker sees service code.

nameko is untyped: to mypy, `store = TierStore()` on a service class makes `self.store` a
TierStore, while in a worker it is whatever `get_dependency` returned (a `Tiers`). Providers
derive from `Injects[T]` instead, whose `__get__` (for the checker only; nameko sets the
injected value on each worker instance) gives `self.store` the type T, so a wrong attribute or
call in a `service.py` is an error in `make test`, not a 500 in production.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nameko.extensions import DependencyProvider

T = TypeVar("T")


class Injects(DependencyProvider, Generic[T]):
    """A DependencyProvider whose workers get a T."""

    if TYPE_CHECKING:  # declarations for the checker; at run time nameko's own methods stand

        def __get__(self, instance: Any, owner: Any) -> T: ...

        def get_dependency(self, worker_ctx: Any) -> T: ...
