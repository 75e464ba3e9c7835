"""Consuming events from the public `tracker.ingress` exchange: validation, dedupe, retries."""

from shared.ingress.entrypoint import EventRejected, ingress

__all__ = ["EventRejected", "ingress"]
