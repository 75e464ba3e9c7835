"""The CloudEvents 1.0 envelope (structured JSON mode) that every ingress message carries."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

SPECVERSION = "1.0"
MAX_ATTRIBUTE_LENGTH = 256


class InvalidEvent(ValueError):
    """The message cannot be accepted; `errors` maps each field path to its problems."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(json.dumps(errors, ensure_ascii=False))
        self.errors = errors


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: datetime
    data: dict[str, Any]

    def with_data(self, data: dict[str, Any]) -> CloudEvent:
        return replace(self, data=data)

    @property
    def order_key(self) -> str:
        """Sortable text, later event time (as an instant, whatever its offset) then event id
        wins: which of two events about the same thing is the newer."""
        moment = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{moment}|{self.id}"

    def to_json(self) -> dict[str, Any]:
        return cloud_event_document(self.type, self.source, self.data, self.id, self.time)


def cloud_event_document(
    event_type: str,
    source: str,
    data: Any,
    event_id: str | None = None,
    time: datetime | str | None = None,
    **attributes: str,
) -> dict[str, Any]:
    """A CloudEvents 1.0 document in structured JSON mode, the one place that writes one, so
    every producer (operators, uploads, webhooks, tests) sends what `parse_envelope` takes.
    A new random id and the current time unless given; `attributes` are optional or extension
    ones (`subject`, `datacontenttype`)."""
    moment = time if time is not None else datetime.now(UTC)
    return {
        "specversion": SPECVERSION,
        "id": event_id if event_id is not None else str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": moment.isoformat() if isinstance(moment, datetime) else moment,
        **attributes,
        "data": data,
    }


class CloudEventSchema(Schema):
    """Required attributes of the contract; extension attributes are allowed and ignored."""

    class Meta:
        unknown = EXCLUDE

    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(1, MAX_ATTRIBUTE_LENGTH))
    source = fields.String(required=True, validate=validate.Length(1, MAX_ATTRIBUTE_LENGTH))
    type = fields.String(required=True, validate=validate.Length(1, MAX_ATTRIBUTE_LENGTH))
    time = fields.AwareDateTime(required=True, format="iso")
    data = fields.Dict(required=True, keys=fields.String())


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as `{"data.uscc": ["..."]}`, one entry per field."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    return {prefix or "_schema": [str(messages)]}


def parse_json(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEvent({"body": [f"not valid JSON: {exc}"]}) from None
    except RecursionError:
        raise InvalidEvent({"body": ["not valid JSON: nested too deeply"]}) from None


def parse_envelope(document: Any) -> CloudEvent:
    """Validate one decoded JSON document as a CloudEvent; the data is checked later, by type."""
    if not isinstance(document, dict):
        raise InvalidEvent({"body": ["must be a JSON object (one CloudEvent)"]})
    try:
        loaded = CloudEventSchema().load(document)
    except ValidationError as exc:
        raise InvalidEvent(flatten_errors(exc.messages)) from None
    return CloudEvent(**{k: loaded[k] for k in ("id", "source", "type", "time", "data")})


def load_data(event: CloudEvent, schema: Schema) -> CloudEvent:
    """The event with its `data` validated and converted by the schema of its type."""
    try:
        return event.with_data(schema.load(event.data))
    except ValidationError as exc:
        raise InvalidEvent(flatten_errors(exc.messages, "data")) from None
