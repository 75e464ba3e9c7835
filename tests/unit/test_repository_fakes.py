"""Each service's storage (MongoDB; the portal's: the other services over RPC) and its
in-memory fake implement the same protocol: every method the use cases may call, with the same
parameters, so the unit tests that use the fakes test what the service runs (what they do alike:
tests/integration/test_versioned_fake.py and each service's integration tests)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from services.auth.repository import KeyRepository
from services.auth.storage import ApiKeys
from services.incubators.repository import IncubatorsRepository, RuleBook
from services.incubators.storage import IncubatorRuleSets, Incubators
from services.notifications.repository import NotificationsRepository
from services.notifications.storage import Notifications
from services.portal.backends import Calls
from services.portal.repository import Backend
from services.registry.repository import EnterpriseRepository
from services.registry.storage import Enterprises
from services.tiering.repository import RuleSetRepository, TierRepository
from services.tiering.storage import RuleSets, Tiers
from tests.support.fakes.auth import InMemoryKeys
from tests.support.fakes.incubators import InMemoryIncubators, InMemoryRuleBook
from tests.support.fakes.notifications import InMemoryNotifications
from tests.support.fakes.portal import FakeBackend
from tests.support.fakes.registry import InMemoryEnterprises
from tests.support.fakes.tiering import InMemoryRuleSets, InMemoryTiers

IMPLEMENTATIONS = [
    (EnterpriseRepository, Enterprises, InMemoryEnterprises),
    (TierRepository, Tiers, InMemoryTiers),
    (RuleSetRepository, RuleSets, InMemoryRuleSets),
    (NotificationsRepository, Notifications, InMemoryNotifications),
    (IncubatorsRepository, Incubators, InMemoryIncubators),
    (RuleBook, IncubatorRuleSets, InMemoryRuleBook),
    (KeyRepository, ApiKeys, InMemoryKeys),
    (Backend, Calls, FakeBackend),  # the portal's storage is the other services
]


def protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    }


def parameters(signature: inspect.Signature) -> list[tuple[str, Any]]:
    """Names, kinds and defaults (annotations are strings under postponed evaluation)."""
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    "protocol, mongo, fake", IMPLEMENTATIONS, ids=[p.__name__ for p, _, _ in IMPLEMENTATIONS]
)
def test_the_mongo_storage_and_the_fake_implement_the_protocol(protocol, mongo, fake):
    wanted = protocol_methods(protocol)
    assert wanted, f"{protocol.__name__} names no method"
    for implementation in (mongo, fake):
        for name, signature in wanted.items():
            method = getattr(implementation, name, None)
            assert callable(method), f"{implementation.__name__} lacks {name}"
            found = parameters(inspect.signature(method))
            assert found == parameters(signature), f"{implementation.__name__}.{name}"
