"""Code every tracker service shares: configuration, envelope, identifiers, storage, ingress, ops."""
