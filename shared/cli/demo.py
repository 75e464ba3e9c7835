"""`tracker demo sample`: a few registrations through the public contract, read back over HTTP."""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

import requests

from shared import uscc
from shared.cli.ingress import amqp_uri
from shared.publisher import Publisher
from shared.units import UNITS

# One firm per unit: (region code, zone, name, industry, founded on)
SAMPLE_FIRMS = [
    ("220102", None, "长春光谷激光科技有限公司", "photonics", "2018-04-12"),
    ("220202", None, "吉林碳谷新材料有限公司", "new_materials", "2016-09-01"),
    ("220302", None, "四平智能农机装备有限公司", "agri_machinery", "2020-03-18"),
    ("220402", None, "辽源医药生物技术有限公司", "biomedicine", "2019-11-05"),
    ("220502", None, "通化人参生物科技有限公司", "biomedicine", "2015-06-30"),
    ("220602", None, "白山矿泉水检测技术有限公司", "testing", "2021-01-22"),
    ("220702", None, "松原油气数字技术有限公司", "energy_software", "2017-08-14"),
    ("220802", None, "白城风电运维科技有限公司", "wind_power", "2022-05-09"),
    ("222401", None, "延边跨境电商软件有限公司", "software", "2020-10-10"),
    ("220581", None, "梅河口医药物流科技有限公司", "logistics", "2019-02-27"),
    ("220621", "changbaishan", "长白山冰雪装备科技有限公司", "equipment", "2021-07-01"),
    ("220173", "changchun_new_area", "长春新区集成电路设计有限公司", "ic_design", "2022-12-12"),
]


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="demo data through the public contract")
    actions = parser.add_subparsers(dest="action", required=True)
    sample = actions.add_parser("sample", help="publish one registration per unit, read back")
    sample.add_argument(
        "--registry-url", default=os.environ.get("REGISTRY_URL", "http://127.0.0.1:8001")
    )
    sample.add_argument("--timeout", type=float, default=60.0)
    sample.set_defaults(run=run_sample)


def sample_events() -> list[dict]:
    events = []
    for index, (region, zone, name, industry, founded) in enumerate(SAMPLE_FIRMS, start=1):
        data = {
            "uscc": uscc.make(f"91{region}MA{index:07d}"),
            "name": name,
            "region_code": region,
            "industry": industry,
            "founded_on": founded,
        }
        if zone:
            data["zone"] = zone
        events.append(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "/demo/sample",
                "type": "enterprise.registered",
                "time": datetime.now(UTC).isoformat(),
                "data": data,
            }
        )
    return events


def run_sample(args: argparse.Namespace) -> int:
    events = sample_events()
    publisher = Publisher(amqp_uri())
    try:
        publisher.publish_events(events)
    finally:
        publisher.close()
    print(f"published {len(events)} enterprise.registered events to tracker.ingress")
    pending = {event["data"]["uscc"] for event in events}
    stored: dict[str, dict] = {}
    deadline = time.monotonic() + args.timeout
    while pending and time.monotonic() < deadline:
        for code in sorted(pending):
            response = requests.get(f"{args.registry_url}/v1/enterprises/{code}", timeout=5)
            if response.status_code == 200:
                stored[code] = response.json()
                pending.discard(code)
        time.sleep(0.3)
    for code, record in stored.items():
        unit = record["unit"]
        print(f"  {code}  {unit:<20} {UNITS[unit]:<10} {record['profile']['name']}")
    print(
        f"stored {len(stored)} of {len(events)}; e.g. {args.registry_url}/v1/enterprises/"
        f"{next(iter(stored), '<uscc>')}"
    )
    if pending:
        print(f"not stored within {args.timeout}s: {sorted(pending)}")
        return 1
    return 0
