"""The alerting and recording rules, generated: `python -m scripts.monitoring` (or
`make monitoring`) writes them; `python -m scripts.monitoring --check` fails while a written
file differs from what would be generated (tests/deploy runs it).

- alerts.py: the tracker's own alerts, RabbitMQ's node alarms and MongoDB's (exporter) alerts;
- slo.py: multi-window, multi-burn-rate alerts from the objectives in deploy/monitoring/slos.yaml;
- operator_pack.py: the RabbitMQ cluster operator's own alert pack, with our runbook links;
- timescale.py: every duration of every rule goes through one `Timescale`, so a test can
  render the same rules with minutes turned into seconds (never the production files);
- render.py: what goes into which file.
"""
