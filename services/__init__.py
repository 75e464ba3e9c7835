"""The four tracker services; each folder is one nameko service."""
