"""Alerts: built from the events they report, and written out for each channel (a CloudEvent
for webhooks, a bilingual e-mail). Plain functions, no I/O."""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from shared.domain.units import UNITS
from shared.envelope import cloud_event_document

SOURCE = "/tracker/notifications"
TIER_LABELS = {"unicorn": "独角兽", "gazelle": "瞪羚", "eaglet": "雏鹰", "none": "无"}
KIND_TITLES = {
    "tier_changed": ("企业梯度层级变化", "Tier change"),
    "finding": ("孵化载体合规发现", "Incubator compliance finding"),
    "digest": ("每日汇总", "Daily digest"),
}


def alert(kind: str, unit: str, key: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One alert for one unit; its id is derived from what it reports, so storing it twice
    is storing it once."""
    return {
        "alert_id": f"{kind}:{key}:{unit}",
        "unit": unit,
        "kind": kind,
        "data": data,
        "created_at": now,
        "read_at": None,
    }


def cloudevent(record: dict[str, Any]) -> dict[str, Any]:
    created = record["created_at"]
    return cloud_event_document(
        f"tracker.alert.{record['kind']}",
        SOURCE,
        record["data"],
        record["alert_id"],
        created if isinstance(created, datetime) else str(created),
        subject=record["unit"],
        datacontenttype="application/json",
    )


def label(tier: str | None, given: str | None = None) -> str:
    return given or TIER_LABELS.get(tier or "none", tier or "")


def lines(record: dict[str, Any], tier_url: str) -> tuple[str, list[str], list[str]]:
    """Subject, Chinese lines and English lines of an alert."""
    data, unit = record["data"], record["unit"]
    unit_name = UNITS.get(unit, "吉林省科学技术厅")
    zh_title, en_title = KIND_TITLES[record["kind"]]
    if record["kind"] == "tier_changed":
        old = label(data["from"], data.get("from_label"))
        new = label(data["to"], data.get("to_label"))
        conditions = [
            f"{c['condition']}: {c['actual']} ({c['required']}){'' if c['passed'] else ' ✗'}"
            for c in data.get("checks", [])[:12]
        ]
        link = f"{tier_url.rstrip('/')}/v1/enterprises/{data['uscc']}/tier"
        subject = f"[{zh_title}] {data.get('name') or data['uscc']}: {old} → {new}"
        zh = [
            f"企业：{data.get('name')}",
            f"统一社会信用代码：{data['uscc']}",
            f"所属单位：{unit_name}（{unit}）",
            f"层级：{old} → {new}",
            f"规则集：{data['ruleset']}（评价年度 {data.get('evaluated_year')}）",
            "决定条件：",
            *[f"  · {c}" for c in conditions],
            f"详情：{link}",
        ]
        en = [
            f"Firm: {data.get('name')}",
            f"USCC: {data['uscc']}",
            f"Unit: {unit}",
            f"Tier: {data['from']} → {data['to']}",
            f"Rule set: {data['ruleset']} (evaluated year {data.get('evaluated_year')})",
            "Deciding conditions:",
            *[f"  - {c}" for c in conditions],
            f"Details: {link}",
        ]
    elif record["kind"] == "finding":
        resolved = data.get("status") == "resolved"
        state = "（已解除 resolved）" if resolved else ""
        subject = f"[{zh_title}] {data['incubator_id']}: {data['kind']}{state}"
        zh = [
            f"孵化载体：{data['incubator_id']}",
            f"所属单位：{unit_name}（{unit}）",
            f"企业：{data.get('uscc') or '—'}",
            f"发现：{data['detail']}",
        ]
        en = [
            f"Carrier: {data['incubator_id']}",
            f"Unit: {unit}",
            f"Firm: {data.get('uscc') or '-'}",
            f"Finding ({data['kind']}): {data['detail']}",
        ]
        if resolved:
            zh.append(f"已解除：{data.get('resolution')}")
            en.append(f"Resolved: {data.get('resolution')}")
        if data.get("ruleset"):
            zh.append(f"规则：{data['ruleset']}")
            en.append(f"Rules: {data['ruleset']}")
    else:
        subject = f"[{zh_title}] {data['day']}"
        counts = [f"{u}: {n}" for u, n in sorted(data["by_unit"].items())]
        zh = [f"日期：{data['day']}", f"提醒总数：{data['total']}", *counts]
        en = [f"Day: {data['day']}", f"Alerts: {data['total']}", *counts]
    return subject, zh, [en_title, *en]


def email(record: dict[str, Any], sender: str, recipient: str, tier_url: str) -> EmailMessage:
    """UTF-8 text and HTML parts, Chinese first with English beneath."""
    subject, zh, en = lines(record, tier_url)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, sender, recipient
    message["Message-ID"] = f"<{record['alert_id'].replace(':', '.')}@tracker>"
    message.set_content("\n".join([*zh, "", "—" * 20, "", *en]), charset="utf-8")
    body = (
        "".join(f"<p>{html.escape(line)}</p>" for line in zh)
        + "<hr>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in en)
    )
    message.add_alternative(f"<html><body>{body}</body></html>", subtype="html", charset="utf-8")
    return message
