"""`POST /v1/events`: incubators post their own events, which are checked here and then
published to `tracker.ingress`, confirmed by the broker, before the 202."""

from __future__ import annotations

import json
from typing import Any

from services.incubators.binding import (
    BATCH,
    JSON_DATA,
    STRUCTURED,
    Posted,
    documented_headers,
    read_events,
)
from services.incubators.repository import IncubatorsRepository as Store
from services.incubators.schemas import EVENT_SCHEMAS, Accepted
from shared import scope
from shared.envelope import CloudEvent, CloudEventSchema, InvalidEvent, load_data, parse_envelope
from shared.http import Problem
from shared.openapi import Doc
from shared.publisher import INGRESS_EXCHANGE, Publisher
from shared.ratelimit import RateLimiter, admit
from shared.scope import Principal

MAX_BATCH = 500
ENDING_TYPES = ("incubator.firm_graduated", "incubator.firm_exited")
DOC = Doc(
    "publish the caller's own incubator events, confirmed by the broker: one structured event,"
    " a batch, or one event in binary mode (its attributes in ce-* headers, its data the body)",
    Accepted,
    status=202,
    errors=(403, 415, 422, 429),
    body={
        STRUCTURED: CloudEventSchema,
        BATCH: {"type": "array", "items": CloudEventSchema, "minItems": 1, "maxItems": MAX_BATCH},
        JSON_DATA: {"oneOf": list(EVENT_SCHEMAS.values())},  # binary mode: the event's data
    },
    headers=documented_headers(EVENT_SCHEMAS),
    key=True,
)


def validate(posted: Posted) -> list[CloudEvent]:
    """Every event checked, whatever its content mode; one invalid event refuses the whole
    batch, with each one's errors named as the caller wrote them (`ce-id` in binary mode)."""
    events, errors = [], {}
    for index, document in enumerate(posted.documents):
        try:
            event = parse_envelope(document)
            schema = EVENT_SCHEMAS.get(event.type)
            if schema is None:
                raise InvalidEvent({"type": [f"must be one of {', '.join(EVENT_SCHEMAS)}"]})
            events.append(load_data(event, schema()))
        except InvalidEvent as exc:
            errors[str(index)] = {posted.field(name): found for name, found in exc.errors.items()}
    if errors:
        raise Problem(
            422,
            "Unprocessable Content",
            f"{len(errors)} of {len(posted.documents)} events are invalid; none was accepted",
            errors,
        )
    return events


def already_accepted(store: Store, events: list[CloudEvent]) -> set[tuple[str, str]]:
    return store.accepted([(e.source, e.id) for e in events])


def authorize(
    store: Store, incubator_id: str, events: list[CloudEvent], repeats: set[tuple[str, str]]
) -> None:
    """Only the caller's own carrier, and only firms it incubates now (admissions aside).
    A repeat of an accepted event is not checked against today's incubations: it is reported
    as a duplicate, so a client retrying after a lost response gets the same answer."""
    admitted_here = set()
    refusals: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        data = event.data
        if data["incubator_id"] != incubator_id:
            refusals[str(index)] = [
                f"about incubator {data['incubator_id']}; this key is {incubator_id}'s"
            ]
        elif event.type == "incubator.firm_admitted":
            admitted_here.add(data["uscc"])
        elif (
            event.type in ENDING_TYPES
            and (event.source, event.id) not in repeats
            and data["uscc"] not in admitted_here
            and not store.incubates(incubator_id, data["uscc"])
        ):
            refusals[str(index)] = [f"{data['uscc']} is not incubated by {incubator_id}"]
    if refusals:
        raise Problem(
            403,
            "Forbidden",
            "events about another incubator or a firm it does not incubate; none was accepted",
            refusals,
        )


def accept(
    store: Store,
    publisher: Publisher,
    documents: list[dict[str, Any]],
    events: list[CloudEvent],
    repeats: set[tuple[str, str]],
) -> dict[str, list[str]]:
    """Publish what is new (confirmed), then remember it; report repeats as duplicates."""
    seen = set(repeats)
    accepted, duplicates, fresh = [], [], []
    for document, event in zip(documents, events, strict=True):
        key = (event.source, event.id)
        if key in seen:
            duplicates.append(event.id)
            continue
        seen.add(key)
        publisher.publish(
            json.dumps(document, ensure_ascii=False).encode(),
            event.type,
            INGRESS_EXCHANGE,
            STRUCTURED,
        )
        accepted.append(event.id)
        fresh.append(key)
    store.mark_accepted(fresh)
    return {"accepted": accepted, "duplicates": duplicates}


def post(
    store: Store, publisher: Publisher, limiter: RateLimiter, principal: Principal, request: Any
) -> dict[str, list[str]]:
    """The whole request of an incubator's key, within the key's rate."""
    if principal["kind"] != "incubator":
        raise scope.forbidden("POST /v1/events takes an incubator's key")
    admit(limiter, principal["key_id"])
    return submit(store, publisher, principal["subject"], read_events(request, MAX_BATCH))


def submit(
    store: Store, publisher: Publisher, incubator_id: str, posted: Posted
) -> dict[str, list[str]]:
    """Events of one incubator, from `POST /v1/events` (any content mode) or the portal's
    upload: all of them are checked before anything is published; one invalid or refused
    event refuses them all."""
    events = validate(posted)
    repeats = already_accepted(store, events)
    authorize(store, incubator_id, events, repeats)
    return accept(store, publisher, posted.documents, events, repeats)


def submitted(
    store: Store, publisher: Publisher, incubator_id: str, documents: list[Any]
) -> dict[str, Any]:
    """`submit` for RPC callers (the portal): a refusal is answered, not raised, with its
    status and the errors of each event by its index."""
    try:
        return {"status": 202, **submit(store, publisher, incubator_id, Posted(documents))}
    except Problem as problem:
        return {"status": problem.status, "detail": problem.detail, "errors": problem.errors}
