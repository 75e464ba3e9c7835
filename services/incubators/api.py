"""`POST /v1/events`: incubators post their own events, which are checked here and then
published to `tracker.ingress`, confirmed by the broker, before the 202."""

from __future__ import annotations

import json
from typing import Any

from services.incubators.schemas import EVENT_SCHEMAS, Accepted
from services.incubators.storage import Incubators
from shared.envelope import CloudEvent, CloudEventSchema, InvalidEvent, load_data, parse_envelope
from shared.http import Problem, read_json
from shared.openapi import Doc
from shared.publisher import INGRESS_EXCHANGE, Publisher

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
MAX_BATCH = 500
ENDING_TYPES = ("incubator.firm_graduated", "incubator.firm_exited")
DOC = Doc(
    "publish the caller's own incubator events, confirmed by the broker",
    Accepted,
    status=202,
    errors=(403, 415, 422, 429),
    body={
        SINGLE: CloudEventSchema,
        BATCH: {"type": "array", "items": CloudEventSchema, "minItems": 1, "maxItems": MAX_BATCH},
    },
    key=True,
)


def read_documents(request: Any) -> list[Any]:
    content_type = (request.mimetype or "").lower()
    if content_type not in (SINGLE, BATCH):
        raise Problem(415, "Unsupported Media Type", f"send {SINGLE} (one event) or {BATCH}")
    body = read_json(request)
    if content_type == SINGLE:
        return [body]
    if not isinstance(body, list) or not body:
        raise Problem(
            400,
            "Bad Request",
            "a batch is a non-empty JSON array of CloudEvents",
            {"body": ["must be a non-empty JSON array"]},
        )
    if len(body) > MAX_BATCH:
        raise Problem(413, "Content Too Large", f"at most {MAX_BATCH} events per batch")
    return body


def validate(documents: list[Any]) -> list[CloudEvent]:
    """Every event checked; one invalid event refuses the whole batch, with each one's errors."""
    events, errors = [], {}
    for index, document in enumerate(documents):
        try:
            event = parse_envelope(document)
            schema = EVENT_SCHEMAS.get(event.type)
            if schema is None:
                raise InvalidEvent({"type": [f"must be one of {', '.join(EVENT_SCHEMAS)}"]})
            events.append(load_data(event, schema()))
        except InvalidEvent as exc:
            errors[str(index)] = exc.errors
    if errors:
        raise Problem(
            422,
            "Unprocessable Content",
            f"{len(errors)} of {len(documents)} events are invalid; none was accepted",
            errors,
        )
    return events


def already_accepted(store: Incubators, events: list[CloudEvent]) -> set[tuple[str, str]]:
    return store.accepted([(e.source, e.id) for e in events])


def authorize(
    store: Incubators, incubator_id: str, events: list[CloudEvent], repeats: set[tuple[str, str]]
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
    store: Incubators,
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
            json.dumps(document, ensure_ascii=False).encode(), event.type, INGRESS_EXCHANGE, SINGLE
        )
        accepted.append(event.id)
        fresh.append(key)
    store.mark_accepted(fresh)
    return {"accepted": accepted, "duplicates": duplicates}


def submit(
    store: Incubators, publisher: Publisher, incubator_id: str, documents: list[Any]
) -> dict[str, list[str]]:
    """Events of one incubator, from `POST /v1/events` or the portal's upload: all of them
    are checked before anything is published; one invalid or refused event refuses them all."""
    events = validate(documents)
    repeats = already_accepted(store, events)
    authorize(store, incubator_id, events, repeats)
    return accept(store, publisher, documents, events, repeats)


def post(
    store: Incubators, publisher: Publisher, incubator_id: str, request: Any
) -> dict[str, list[str]]:
    """The whole request, once the caller is known and within its rate."""
    return submit(store, publisher, incubator_id, read_documents(request))


def submitted(
    store: Incubators, publisher: Publisher, incubator_id: str, documents: list[Any]
) -> dict[str, Any]:
    """`submit` for RPC callers (the portal): a refusal is answered, not raised, with its
    status and the errors of each event by its index."""
    try:
        return {"status": 202, **submit(store, publisher, incubator_id, documents)}
    except Problem as problem:
        return {"status": problem.status, "detail": problem.detail, "errors": problem.errors}
