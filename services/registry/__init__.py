"""registry: keeps each firm's record from the enterprise events on `tracker.ingress`."""
