"""The senders of alerts: webhooks over HTTP and e-mail over SMTP, and the dependency that
configures them and the retry policy from the service's config. Each sender raises
DeliveryFailed with a reason that is safe to store (never a secret)."""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from typing import Any, Protocol

import requests

from services.notifications import alerts, signing
from services.notifications.delivery import RetryPolicy
from shared.injection import Injects


class DeliveryFailed(Exception):
    pass


class Sender(Protocol):
    def send(self, subscription: dict[str, Any], alert: dict[str, Any]) -> None:
        """Deliver the alert to the subscription's endpoint, or raise DeliveryFailed."""


class WebhookSender:
    def __init__(self, timeout_seconds: float):
        self.timeout = timeout_seconds
        self.session = requests.Session()

    def send(self, subscription: dict[str, Any], alert: dict[str, Any]) -> None:
        body = json.dumps(alerts.cloudevent(alert), ensure_ascii=False, default=str).encode()
        headers = signing.headers(subscription["secret"], alert["alert_id"], int(time.time()), body)
        try:
            response = self.session.post(
                subscription["url"],
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise DeliveryFailed(f"timed out after {self.timeout}s") from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: connection failed") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")


class EmailSender:
    def __init__(self, smtp: dict[str, Any], tier_url: str):
        self.smtp, self.tier_url = smtp, tier_url

    def tls_context(self) -> ssl.SSLContext:
        """Verifies the server against the public CAs, or the one `SMTP_TLS_CA` names."""
        return ssl.create_default_context(cafile=self.smtp.get("ca") or None)

    def send(self, subscription: dict[str, Any], alert: dict[str, Any]) -> None:
        message = alerts.email(alert, self.smtp["sender"], subscription["address"], self.tier_url)
        timeout = float(self.smtp.get("timeout", 10))
        try:
            if self.smtp.get("ssl"):
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.smtp["host"],
                    int(self.smtp["port"]),
                    timeout=timeout,
                    context=self.tls_context(),
                )
            else:
                client = smtplib.SMTP(self.smtp["host"], int(self.smtp["port"]), timeout=timeout)
            with client:
                if self.smtp.get("starttls"):
                    client.starttls(context=self.tls_context())
                if self.smtp.get("username"):
                    client.login(self.smtp["username"], self.smtp.get("password") or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP {type(exc).__name__}") from None


class Senders(Injects["Senders"]):
    """A sender per channel and the retry policy (`DELIVERY`, `SMTP`, `PUBLIC_TIERING_URL`)."""

    def setup(self) -> None:
        config = self.container.config
        self.policy = RetryPolicy.from_config(config.get("DELIVERY", {}))
        self.by_channel: dict[str, Sender] = {
            "webhook": WebhookSender(self.policy.timeout_seconds),
            "email": EmailSender(
                config.get("SMTP", {}),
                str(config.get("PUBLIC_TIERING_URL", "http://127.0.0.1:8002")),
            ),
        }

    def get_dependency(self, worker_ctx: Any) -> Senders:
        return self
