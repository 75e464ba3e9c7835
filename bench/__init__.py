"""`make bench`: throughput, latency, re-evaluation, HTTP ingest, growth and memory, each
throughput also as a ratio to a raw-kombu baseline measured in the same run."""
