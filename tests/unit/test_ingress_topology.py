import pytest

from shared.ingress.entrypoint import IngressEntrypoint
from shared.ingress.topology import INGRESS_FAMILIES, IngressTopology
from shared.retries import DEFAULT_RETRY_DELAYS_MS, parse_delays


def test_names_and_bindings():
    topology = IngressTopology(
        "registry", ("enterprise.registered", "enterprise.annual_report"), (100, 500)
    )
    assert topology.queue_name == "registry.ingress"
    assert topology.retry.dead_queue_name == "registry.ingress.dead"
    assert topology.families == ["enterprise"]
    assert [b.routing_key for b in topology.work_queue().bindings] == ["enterprise.#"]
    assert topology.retry.retry_queue_name(2) == "registry.ingress.retry.500ms"
    retry = topology.retry.queues()[0]
    assert retry.queue_arguments == {
        "x-message-ttl": 100,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "registry.ingress",
    }


@pytest.mark.parametrize(
    ("raw", "delays"),
    [(None, DEFAULT_RETRY_DELAYS_MS), ("10,20", (10, 20)), ([5], (5,)), (500, (500,))],
)
def test_delays_from_config(raw, delays):
    """500: one delay set in the environment, which nameko's config reads as a number."""
    assert parse_delays(raw, "EVENT_RETRY_DELAYS_MS") == delays


@pytest.mark.parametrize("raw", ["0", "-5,10", "a", "1,,2", 0, [None]])
def test_bad_delays_are_refused_naming_the_setting(raw):
    with pytest.raises(ValueError, match=r"^EVENT_RETRY_DELAYS_MS must be positive"):
        parse_delays(raw, "EVENT_RETRY_DELAYS_MS")


def test_the_families_every_service_declares_are_those_its_handlers_take():
    from services.incubators.service import IncubatorsService
    from services.registry.service import RegistryService
    from services.tiering.service import TieringService

    def families(service_cls):
        types = [
            event_type
            for method in vars(service_cls).values()
            for entrypoint in getattr(method, "nameko_entrypoints", ())
            if isinstance(entrypoint, IngressEntrypoint)
            for event_type in entrypoint.schemas
        ]
        return tuple(IngressTopology(service_cls.name, tuple(types)).families)

    services = (RegistryService, IncubatorsService, TieringService)
    declared = {s.name: families(s) for s in services if families(s)}
    assert declared == INGRESS_FAMILIES
