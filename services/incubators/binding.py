"""The CloudEvents HTTP protocol binding (1.0.2) on the way in: whatever a request's content
mode, its events come out as structured JSON documents, so that one validation serves all three.

- structured: `application/cloudevents+json`, one event in the body;
- batched: `application/cloudevents-batch+json`, a JSON array of events;
- binary: the attributes in `ce-*` headers and the event's `data` as the body, with its
  `Content-Type`. The data here is JSON: `application/json`, or no `Content-Type` at all, which
  is what the official SDKs send by default (they leave `datacontenttype` unset).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from werkzeug.http import parse_options_header

from shared.envelope import MAX_ATTRIBUTE_LENGTH, SPECVERSION
from shared.http import Problem, read_json, sent_content_type

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON_DATA = "application/json"
HEADER_PREFIX = "ce-"
ATTRIBUTE_NAME = re.compile(r"[a-z0-9]{1,64}")
# Attributes that binary mode does not carry in `ce-*` headers: the body and its Content-Type.
NOT_IN_HEADERS = {"data": "the body is the data", "datacontenttype": "Content-Type carries it"}
QUOTED_PAIR = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Posted:
    """A request's events as structured CloudEvent documents, and its content mode."""

    documents: list[Any]
    binary: bool = False

    def field(self, name: str) -> str:
        """A field as the caller wrote it: in binary mode an attribute is its `ce-*` header
        (`ce-id`), while `data...` is the body."""
        if self.binary and name.partition(".")[0] != "data":
            return HEADER_PREFIX + name
        return name


def unsupported(detail: str) -> Problem:
    return Problem(415, "Unsupported Media Type", detail)


def read_events(request: Any, max_batch: int) -> Posted:
    """The request's events as CloudEvent documents, by the content mode its Content-Type and
    headers say (the binding's rule: a `application/cloudevents` prefix is structured, the
    `-batch` one batched, anything else binary). Nothing is validated as an event here."""
    content_type = sent_content_type(request)
    media = parse_options_header(content_type)[0].lower() if content_type else ""
    if media.startswith("application/cloudevents-batch"):
        if media != BATCH:
            raise unsupported(f"a batch is {BATCH}")
        return Posted(read_batch(request, max_batch))
    if media.startswith("application/cloudevents"):
        if media != STRUCTURED:
            raise unsupported(f"a structured event is {STRUCTURED}")
        return Posted([read_json(request)])
    attributes = any(name.lower().startswith(HEADER_PREFIX) for name, _ in request.headers.items())
    if media == JSON_DATA or (attributes and not media):
        return Posted([binary_document(request, content_type)], binary=True)
    if attributes:
        raise unsupported(f"in binary mode the data must be JSON: Content-Type {JSON_DATA}")
    raise unsupported(
        f"send {STRUCTURED} (one event), {BATCH}, or binary mode: ce-* headers and the data "
        f"as {JSON_DATA}"
    )


def read_batch(request: Any, max_batch: int) -> list[Any]:
    body = read_json(request)
    if not isinstance(body, list) or not body:
        raise Problem(
            400,
            "Bad Request",
            "a batch is a non-empty JSON array of CloudEvents",
            {"body": ["must be a non-empty JSON array"]},
        )
    if len(body) > max_batch:
        raise Problem(413, "Content Too Large", f"at most {max_batch} events per batch")
    return body


def binary_document(request: Any, content_type: str | None) -> dict[str, Any]:
    """The structured document of a binary-mode request: each `ce-<name>` header's value as
    attribute `<name>`, `datacontenttype` from Content-Type, the JSON body as `data`."""
    document: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in request.headers.items():
        header = name.lower()
        if not header.startswith(HEADER_PREFIX):
            continue
        attribute = header.removeprefix(HEADER_PREFIX)
        try:
            if attribute in NOT_IN_HEADERS:
                raise ValueError(f"not a header in binary mode: {NOT_IN_HEADERS[attribute]}")
            if not ATTRIBUTE_NAME.fullmatch(attribute):
                raise ValueError("not a CloudEvents attribute name (a-z and 0-9 after ce-)")
            document[attribute] = header_value(raw)
        except ValueError as exc:
            errors[header] = [str(exc)]
    if errors:
        raise Problem(400, "Bad Request", "malformed ce-* headers", errors)
    if content_type:
        document["datacontenttype"] = content_type
    document["data"] = read_json(request)
    return document


def header_value(raw: str) -> str:
    """An attribute's value from its header, decoded as the binding says (3.1.3.2): a quoted
    string unescaped (older senders), then one round of percent-decoding to UTF-8, whose
    invalid byte sequences are refused."""
    if not (raw.isascii() and raw.isprintable()):
        raise ValueError("must be printable ASCII; percent-encode any other character as UTF-8")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = QUOTED_PAIR.sub(r"\1", raw[1:-1])
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise ValueError("its percent-encoded bytes are not UTF-8") from None


def documented_headers(event_types: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Binary mode's `ce-*` headers as OpenAPI header parameters: optional there, since the
    other modes carry the attributes in the body."""
    text = {"type": "string", "minLength": 1, "maxLength": MAX_ATTRIBUTE_LENGTH}
    schemas = {
        "specversion": {"type": "string", "enum": [SPECVERSION]},
        "id": text,
        "source": text,
        "type": {"type": "string", "enum": sorted(event_types)},
        "time": {"type": "string", "format": "date-time"},
    }
    return {
        f"{HEADER_PREFIX}{name}": {
            "description": f"binary mode: the event's `{name}`, required there; other"
            " characters than printable ASCII percent-encoded as UTF-8 (CloudEvents HTTP binding)",
            "schema": schema,
        }
        for name, schema in schemas.items()
    }
