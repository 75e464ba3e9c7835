"""What is sent in which order, and which fault hits during which step.

Enterprise events go in six slices, carriers and admissions with the second, the rest of the
incubator events in the loader's later phases (only once everything before is done, so a
graduation never overtakes its admission). Six faults, one per slice while it is sent: each
service killed with SIGKILL once and started again, the broker restarted once, the database
server stopped for ten seconds. Each fault's service is held (SIGSTOP) while its slice is sent
and let go once work waits for it, so that every fault hits work in flight: a small province
is otherwise done before a fault can find any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.events import SUBSCRIPTIONS
from tests.chaos.pipeline import Fault, Pipeline, Step

SLICES = 6
DATABASE_OUTAGE_SECONDS = 10
AT_WORK_SECONDS = 0.1  # after a held service goes on: into its first batch, not past it
INGRESS_SERVICES = ("registry", "incubators")


def steps(enterprise_events: list[bytes], phases: list[list[dict[str, Any]]]) -> list[Step]:
    size = -(-len(enterprise_events) // SLICES)
    slices = [enterprise_events[i : i + size] for i in range(0, len(enterprise_events), size)]
    out = [
        Step(f"enterprise events {n + 1}/{len(slices)}", publish=part)
        for n, part in enumerate(slices)
    ]
    out[1].post = phases[0]  # carriers and admissions, while enterprise events flow
    out[1].name += " + carriers and admissions"
    out[-1].drain = True
    return [
        *out,
        Step("graduations and exits", post=phases[1], drain=True),
        Step("carrier annual reports", post=phases[2], drain=True),
    ]


def kill(service: str) -> Fault:
    """Held until its queues hold work, then SIGKILLed a moment after it goes on: with a batch
    in hand, its acks not sent."""

    def inject(pipeline: Pipeline) -> None:
        time.sleep(AT_WORK_SECONDS)
        pipeline.services[service].kill()
        pipeline.services[service].start()

    return Fault(f"SIGKILL {service}, then start it again", inject, service, work_of(service))


def restart_broker(pipeline: Pipeline) -> None:
    pipeline.rabbit.restart()


def stop_database(pipeline: Pipeline) -> None:
    pipeline.ferret.stop()
    time.sleep(DATABASE_OUTAGE_SECONDS)  # the outage itself, not a wait for a condition
    pipeline.ferret.start()


def consumed_by(service: str) -> list[str]:
    """The queues a service takes work from: its ingress, if it has one, and its events."""
    ingress = [f"{service}.ingress"] if service in INGRESS_SERVICES else []
    return ingress + [s.queue_name for s in SUBSCRIPTIONS if s.service == service]


def work_of(service: str) -> Callable[[Pipeline], int]:
    def work(pipeline: Pipeline) -> int:
        waiting = sum(pipeline.waiting(q) for q in consumed_by(service))
        if service == "notifications":  # alerts waiting for their webhook call too
            waiting += pipeline.db(service).deliveries.count_documents({"state": "pending"})
        return waiting

    return work


def faults(steps: list[Step]) -> dict[str, Fault]:
    """The fault of each enterprise slice; the broker and the database go while the registry
    works through a slice held back for them."""
    chosen = [
        kill("registry"),
        kill("incubators"),
        kill("tiering"),
        kill("notifications"),
        Fault(
            "restart RabbitMQ (clean stop, start)", restart_broker, "registry", work_of("registry")
        ),
        Fault(
            f"stop the database server for {DATABASE_OUTAGE_SECONDS} s",
            stop_database,
            "registry",
            work_of("registry"),
        ),
    ]
    return {step.name: fault for step, fault in zip(steps, chosen, strict=False)}
