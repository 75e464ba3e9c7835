"""The channels a delivery can go through, configured from the service's config."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from services.notifications.channels import EmailSender, WebhookSender
from services.notifications.delivery import RetryPolicy


class Senders(DependencyProvider):
    def setup(self) -> None:
        config = self.container.config
        self.policy = RetryPolicy.from_config(config.get("DELIVERY", {}))
        self.by_channel = {
            "webhook": WebhookSender(self.policy.timeout_seconds),
            "email": EmailSender(
                config.get("SMTP", {}),
                str(config.get("PUBLIC_TIERING_URL", "http://127.0.0.1:8002")),
            ),
        }

    def get_dependency(self, worker_ctx: Any) -> Senders:
        return self
