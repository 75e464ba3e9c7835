"""The faulted run against the fault-free one: what was lost, what was done twice, what differs.

Compared document by document, by key: everything stored (firms and their reports, tiers,
incubations, findings, finding alerts, rule sets), and the report's counts.

Not compared as documents, because it depends on the order events happen to be processed in,
in a fault-free run too: which *intermediate* tiers a firm passes through. tiering drops a
snapshot older than one it has seen, so a firm whose registration and reports arrive in a burst
may go none → eaglet → none in one run and stay none in another. So the tier history, the tier
alerts and each firm's change count are checked by what must hold whatever the order:

- every firm's history runs seq 1..n, each move starting from where the previous one ended and
  ending in the firm's current tier (a change recorded twice breaks that chain);
- every change is announced (announced_seq = seq) and the last change of every firm reached
  notifications (its last seen seq = the firm's seq): no final move without its alert;
- every tier alert is exactly its history entry; every alert is in its unit's inbox once, was
  delivered, and reached the webhook receiver under its own webhook-id.

Lost: an event the fault-free run applied (its (source, id) done in a ledger) that the faulted
run did not, one parked in a `.dead` queue or still queued, a missing rejection, a missing
stored document. Twice: a webhook-id the receiver accepted more than once, an inbox listing an
alert twice, a broken history chain, a rejection recorded more than once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

SHOWN = 10
ORDER_DEPENDENT = {"tiering.tier_history", "notifications.firm_sequences"}
# A finding's states on the way (raised before the registry data that withdraws it arrived, or
# never) depend on the order too: its current state and detail do not.
ORDER_DEPENDENT_FIELDS = {
    "tiering.firms": ("seq", "announced_seq"),
    "incubators.findings": ("revision", "announced_revision", "history"),
}
TIER_ALERT = "tier_changed"
FINDING_ALERT = "finding"
ORDER_DEPENDENT_ALERTS = (TIER_ALERT, FINDING_ALERT)


def order_free(documents: dict[str, dict]) -> dict[str, dict]:
    """The documents that must be equal whatever the processing order."""
    out = {}
    for name, docs in documents.items():
        if name in ORDER_DEPENDENT:
            continue
        if name == "notifications.alerts":
            docs = {k: d for k, d in docs.items() if d["kind"] not in ORDER_DEPENDENT_ALERTS}
        if name == "incubators.findings":  # withdrawn ones are the history on the way
            docs = {k: d for k, d in docs.items() if d.get("status") != "resolved"}
        dropped = ORDER_DEPENDENT_FIELDS.get(name, ())
        out[name] = {k: {f: v for f, v in d.items() if f not in dropped} for k, d in docs.items()}
    return out


def differences(baseline: dict[str, dict], chaos: dict[str, dict]) -> dict[str, Any]:
    out = {}
    for name in sorted(set(baseline) | set(chaos)):
        before, after = baseline.get(name, {}), chaos.get(name, {})
        missing = sorted(set(before) - set(after))
        extra = sorted(set(after) - set(before))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        if missing or extra or changed:
            out[name] = {
                "missing": len(missing),
                "extra": len(extra),
                "changed": len(changed),
                "examples": {
                    "missing": missing[:SHOWN],
                    "extra": extra[:SHOWN],
                    "changed": [
                        {"key": k, "fault_free": before[k], "faulted": after[k]}
                        for k in changed[:3]
                    ],
                },
            }
    return out


def history_problems(history: dict[str, dict], firms: dict[str, dict]) -> list[str]:
    by_firm: dict[str, list[dict]] = defaultdict(list)
    for entry in history.values():
        by_firm[entry["uscc"]].append(entry)
    problems = []
    for uscc, firm in firms.items():
        entries = sorted(by_firm.pop(uscc, []), key=lambda e: e["seq"])
        if [e["seq"] for e in entries] != list(range(1, firm["seq"] + 1)):
            problems.append(
                f"{uscc}: history seq {[e['seq'] for e in entries]}, firm seq {firm['seq']}"
            )
        if firm.get("announced_seq") != firm["seq"]:
            problems.append(f"{uscc}: announced {firm.get('announced_seq')} of {firm['seq']}")
        tier = "none"
        for entry in entries:
            if entry["from"] != tier or entry["from"] == entry["to"]:
                problems.append(
                    f"{uscc}: seq {entry['seq']} {entry['from']}→{entry['to']} after {tier}"
                )
            tier = entry["to"]
        if tier != firm["tier"]:
            problems.append(f"{uscc}: history ends in {tier}, the firm is {firm['tier']}")
    problems += [f"{uscc}: history without a tier record" for uscc in by_firm]
    return problems


def alert_problems(run: dict[str, Any]) -> list[str]:
    documents = run["documents"]
    history = documents.get("tiering.tier_history", {})
    firms = documents.get("tiering.firms", {})
    alerts = documents.get("notifications.alerts", {})
    seen = documents.get("notifications.firm_sequences", {})
    problems = []
    for alert_id, alert in alerts.items():
        if alert["kind"] == TIER_ALERT:
            data = alert["data"]
            if history.get(f"{data['uscc']}:{data['seq']}") != data:
                problems.append(f"{alert_id}: not its history entry")
    problems += [
        f"{uscc}: last change {firm['seq']} never reached notifications"
        for uscc, firm in firms.items()
        if firm["seq"] and seen.get(uscc, {}).get("seq") != firm["seq"]
    ]
    finding_alerts = {
        a["data"].get("event_id") for a in alerts.values() if a["kind"] == FINDING_ALERT
    }
    for finding_id, found in documents.get("incubators.findings", {}).items():
        current = f"{finding_id}#{found['revision']}"
        if found.get("unit") and current not in finding_alerts:
            problems.append(f"{finding_id}: its state {found['status']} never reached its unit")
    inbox = Counter(i for ids in run["inboxes"].values() for i in ids)
    problems += [f"{a}: in the inbox {inbox[a]} times" for a in alerts if inbox[a] != 1]
    problems += [f"{a}: in an inbox, not stored" for a in inbox if a not in alerts]
    delivered = run["webhooks"]["ids"]
    problems += [
        f"{a}: delivery {run['deliveries'].get(a)}"
        for a in alerts
        if (run["deliveries"].get(a) or {}).get("state") != "sent"
    ]
    problems += [f"{a}: not received by the webhook" for a in alerts if a not in delivered]
    problems += [f"{a}: received, not stored" for a in delivered if a not in alerts]
    return problems


def consistency(run: dict[str, Any]) -> list[str]:
    documents = run["documents"]
    return history_problems(
        documents.get("tiering.tier_history", {}), documents.get("tiering.firms", {})
    ) + alert_problems(run)


def order_dependent(baseline: dict[str, Any], chaos: dict[str, Any]) -> dict[str, Any]:
    """How far the order-dependent part differs: shown, not asserted."""

    def moves(run: dict[str, Any]) -> Counter:
        return Counter(
            f"{e['from']}→{e['to']}"
            for e in run["documents"].get("tiering.tier_history", {}).values()
        )

    def tier_alerts(run: dict[str, Any]) -> Counter:
        return Counter(
            a["unit"]
            for a in run["documents"].get("notifications.alerts", {}).values()
            if a["kind"] == TIER_ALERT
        )

    before = baseline["documents"].get("tiering.tier_history", {})
    after = chaos["documents"].get("tiering.tier_history", {})
    return {
        "tier_history_entries": {
            "fault_free": len(before),
            "faulted": len(after),
            "same": sum(1 for k in before if after.get(k) == before[k]),
        },
        "moves": {"fault_free": dict(moves(baseline)), "faulted": dict(moves(chaos))},
        "tier_alerts_per_unit": {
            "fault_free": dict(tier_alerts(baseline)),
            "faulted": dict(tier_alerts(chaos)),
        },
    }


def compare(baseline: dict[str, Any], chaos: dict[str, Any]) -> dict[str, Any]:
    not_applied = sorted(
        f"{service}: {key}"
        for service, ledger in baseline["ledgers"].items()
        for key, state in ledger.items()
        if state == "done" and chaos["ledgers"][service].get(key) != "done"
    )
    parked = {q: n for q, n in chaos["queues"].items() if q.endswith(".dead") and n}
    waiting = {
        q: n
        for q, n in chaos["queues"].items()
        if n and not q.endswith(".dead") and q != "tracker.ingress.rejected"
    }
    rejections_missing = sum((baseline["rejected"] - chaos["rejected"]).values())
    hooks = chaos["webhooks"]
    inbox_repeats = sum(
        n - 1 for ids in chaos["inboxes"].values() for n in Counter(ids).values() if n > 1
    )
    baseline_report = {k: v for k, v in baseline["report"].items() if k != "tier_changes"}
    chaos_report = {k: v for k, v in chaos["report"].items() if k != "tier_changes"}
    return {
        "events_sent": chaos["sent"]["published"] + chaos["sent"]["posted"],
        "sent": chaos["sent"],
        "faults_injected": len(chaos["faults"]),
        "faults": chaos["faults"],
        "seconds_per_step": {"fault_free": baseline["seconds"], "faulted": chaos["seconds"]},
        "events_lost": len(not_applied) + sum(parked.values()) + rejections_missing,
        "lost": {
            "not_applied": not_applied[:SHOWN],
            "not_applied_count": len(not_applied),
            "parked": parked,
            "still_queued": waiting,
            "rejections_missing": rejections_missing,
        },
        "duplicates": {
            "webhook_requests_accepted": hooks["raw"],
            "distinct_alerts_delivered": len(hooks["ids"]),
            "alerts_delivered_twice": hooks["raw"] - len(hooks["ids"]),
            "inbox_entries_listed_twice": inbox_repeats,
            "rejections_recorded_twice": sum((chaos["rejected"] - baseline["rejected"]).values()),
        },
        "consistency_problems": {
            "fault_free": consistency(baseline)[:SHOWN],
            "faulted": consistency(chaos)[:SHOWN],
        },
        "alerts_per_unit": {
            "fault_free": baseline["webhooks"]["unique_per_unit"],
            "faulted": hooks["unique_per_unit"],
            "faulted_raw": hooks["raw_per_unit"],
        },
        "differences": differences(
            order_free(baseline["documents"]), order_free(chaos["documents"])
        ),
        "order_dependent": order_dependent(baseline, chaos),
        "counts_equal": baseline_report == chaos_report,
        "counts": {"fault_free": baseline["report"], "faulted": chaos["report"]},
    }
