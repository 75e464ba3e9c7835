"""Code every tracker service shares: configuration, envelope, identifiers, storage, ops."""
