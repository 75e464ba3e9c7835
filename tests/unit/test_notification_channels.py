import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifications import alerts, signing
from services.notifications.delivery import RetryPolicy

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CHANGE = {
    "id": "X:1",
    "uscc": "91220101000000006F",
    "seq": 1,
    "name": "长春光电测试科技有限公司",
    "unit": "220100",
    "from": "none",
    "from_label": "无",
    "to": "gazelle",
    "to_label": "瞪羚",
    "ruleset": "jl-2025",
    "evaluated_year": 2024,
    "checks": [
        {
            "tier": "gazelle",
            "condition": "3-year revenue CAGR ≥ 20%",
            "required": "≥ 0.2",
            "actual": 0.21,
            "passed": True,
        }
    ],
}


def test_signatures_verify_with_the_standardwebhooks_package():
    secret = signing.new_secret()
    body = json.dumps({"hello": "中文"}, ensure_ascii=False).encode()
    headers = signing.headers(secret, "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {"hello": "中文"}
    tampered = body.replace("中".encode(), "申".encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


def test_the_email_is_bilingual_with_text_and_html():
    record = alerts.alert("tier_changed", "220100", CHANGE["id"], CHANGE, NOW)
    message = alerts.email(
        record, "tracker@example.org", "bureau@example.org", "http://tiering:8002"
    )
    assert message["Subject"] == "[企业梯度层级变化] 长春光电测试科技有限公司: 无 → 瞪羚"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.index("统一社会信用代码") < text.index("USCC")  # Chinese first, English beneath
    assert "http://tiering:8002/v1/enterprises/91220101000000006F/tier" in text
    assert "3-year revenue CAGR ≥ 20%" in html and "jl-2025" in text


def test_back_off_grows_with_jitter_and_ends():
    policy = RetryPolicy(max_attempts=5, first_delay_seconds=30, max_delay_seconds=100)
    rng = random.Random(7)
    delays = [(policy.next_attempt(n, NOW, rng) - NOW).total_seconds() for n in range(1, 5)]
    assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60 and 50 <= delays[3] <= 100
    assert policy.next_attempt(5, NOW) is None


def test_the_default_schedule_spans_hours():
    assert RetryPolicy().longest_schedule_seconds() > timedelta(hours=2).total_seconds()
