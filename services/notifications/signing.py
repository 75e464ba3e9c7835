"""Standard Webhooks signing secrets and headers; the signature itself is the standardwebhooks
package's (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), the same code receivers verify
with."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of a webhook call whose body is `body` (UTF-8 JSON), sent at `timestamp`
    (seconds since the epoch)."""
    at = datetime.fromtimestamp(timestamp, UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
        "content-type": "application/cloudevents+json",
    }
