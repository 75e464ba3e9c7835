"""What is sent in which order, and which fault hits during which step.

Enterprise events go in six slices, carriers and admissions with the second, the rest of the
incubator events in the loader's later phases (only once everything before is done, so a
graduation never overtakes its admission). Six faults, one per slice while it is sent: each
service killed with SIGKILL once and started again, the broker restarted once, the database
server stopped for ten seconds.
"""

from __future__ import annotations

import time
from typing import Any

from shared.events import SUBSCRIPTIONS
from tests.chaos.pipeline import Fault, Pipeline, Step

SLICES = 6
DATABASE_OUTAGE_SECONDS = 10
EVENT_QUEUES = {(s.source, s.service): s.queue_name for s in SUBSCRIPTIONS}


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


def kill(service: str, work: Any) -> Fault:
    def inject(pipeline: Pipeline) -> None:
        pipeline.services[service].kill()
        pipeline.services[service].start()

    return Fault(f"SIGKILL {service}, then start it again", inject, work)


def restart_broker(pipeline: Pipeline) -> None:
    pipeline.rabbit.restart()


def stop_database(pipeline: Pipeline) -> None:
    pipeline.ferret.stop()
    time.sleep(DATABASE_OUTAGE_SECONDS)  # the outage itself, not a wait for a condition
    pipeline.ferret.start()


def ingress_work(service: str) -> Any:
    return lambda pipeline: pipeline.queued(f"{service}.ingress")


def tiering_work(pipeline: Pipeline) -> int:
    return pipeline.queued(EVENT_QUEUES["registry", "tiering"])


def notifications_work(pipeline: Pipeline) -> int:
    """Tier changes to route, and alerts waiting for their webhook call."""
    pending = pipeline.db("notifications").deliveries.count_documents({"state": "pending"})
    return pending + pipeline.queued(EVENT_QUEUES["tiering", "notifications"])


def all_work(pipeline: Pipeline) -> int:
    return sum(
        pipeline.queued(q)
        for q in ("registry.ingress", "incubators.ingress", *EVENT_QUEUES.values())
    )


def faults(steps: list[Step]) -> dict[str, Fault]:
    """The fault of each enterprise slice."""
    chosen = [
        kill("registry", ingress_work("registry")),
        kill("incubators", ingress_work("incubators")),
        kill("tiering", tiering_work),
        kill("notifications", notifications_work),
        Fault("restart RabbitMQ (clean stop, start)", restart_broker, all_work),
        Fault(f"stop the database server for {DATABASE_OUTAGE_SECONDS} s", stop_database, all_work),
    ]
    return {step.name: fault for step, fault in zip(steps, chosen, strict=False)}
