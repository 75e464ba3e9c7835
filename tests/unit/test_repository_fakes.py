"""The in-memory fakes offer what the MongoDB classes offer to the use cases: every method of
each repository protocol, with the same parameters, so a fake cannot drift from its protocol
unnoticed (what they do alike is checked in tests/integration/test_versioned_fake.py and by the
integration tests of each service)."""

import inspect

import pytest

from services.registry.repository import EnterpriseRepository
from services.registry.storage import Enterprises
from services.tiering.repository import RuleSetRepository, TierRepository
from services.tiering.storage import RuleSets, Tiers
from tests.support.fakes.registry import InMemoryEnterprises
from tests.support.fakes.tiering import InMemoryRuleSets, InMemoryTiers

IMPLEMENTATIONS = [
    (EnterpriseRepository, Enterprises, InMemoryEnterprises),
    (TierRepository, Tiers, InMemoryTiers),
    (RuleSetRepository, RuleSets, InMemoryRuleSets),
]


def protocol_methods(protocol: type) -> list[str]:
    """The methods the protocol declares (not those typing.Protocol adds, all dunders)."""
    declared = vars(protocol).items()
    return [name for name, value in declared if inspect.isfunction(value) and name[0] != "_"]


def parameters(method) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults (annotations are spelt differently, to the same effect)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


@pytest.mark.parametrize(("protocol", "mongodb", "fake"), IMPLEMENTATIONS)
def test_the_mongodb_class_and_the_fake_offer_every_method_of_the_protocol(protocol, mongodb, fake):
    methods = protocol_methods(protocol)
    assert methods
    for name in methods:
        expected = parameters(getattr(protocol, name))
        assert parameters(getattr(mongodb, name)) == expected, f"{mongodb.__name__}.{name}"
        assert parameters(getattr(fake, name)) == expected, f"{fake.__name__}.{name}"
