"""No personal data in a log line or a notification: every line of the run is scanned."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from complaints_cli.stack import Stack
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


MOBILE = "13912345678"
EMAIL = "zhang.san.pii@example.com"
CN_ID = "11010519491231002" + id_check_digit("11010519491231002")
CARD = luhn_complete("622202020011223344")
PLANTED = (MOBILE, EMAIL, CN_ID, CARD)

# Anything that looks like personal data, planted or not. Not inside a run of Latin letters
# and digits: a hex id (a cluster's, an HMAC) holds an 11-digit run starting 1[3-9] now and
# then (a full run flagged 13133095266 in the sink, a number no test sends).
_MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Card numbers start with an issuer's digit (UnionPay 62, Visa 4, Mastercard 5, JCB 3);
# nanosecond timestamps (19 digits from 1...) are not cards; nor is a Luhn-valid run inside a
# hex id (a full run flagged 410145412032783486 in ESC-18e3f410145412032783486e34100b01).
_CARD_RE = re.compile(r"(?<![0-9A-Za-z])[3-6]\d{15,18}(?![0-9A-Za-z])")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def personal_data_in(text: str) -> list[str]:
    found = [m for m in _MOBILE_RE.findall(text)]
    found += [m for m in _ID_RE.findall(text) if id_check_digit(m[:17]) == m[17].upper()]
    found += [m for m in _CARD_RE.findall(text) if luhn_valid(m)]
    found += [m for m in _EMAIL_RE.findall(text) if "***" not in m]
    return found


def test_the_detector_finds_what_it_must() -> None:
    text = f"call {MOBILE}, id {CN_ID}, card {CARD}, mail {EMAIL}; order 20251231235959123"
    assert set(personal_data_in(text)) == set(PLANTED)
    assert (
        personal_data_in("139****5678 110105********002X 6222********3445 z***@example.com") == []
    )
    assert personal_data_in("cluster.9fe13133095266ab 电话13812341234") == ["13812341234"]
    assert personal_data_in("ESC-18e3f410145412032783486e34100b01") == []


def test_no_log_line_or_notification_carries_personal_data(stack: Stack) -> None:
    intake = stack.services["intake"].base_url
    complaint = {
        "channel": "app",
        "channel_event_id": f"pii-{uuid.uuid4().hex}",
        "customer": {"id": f"cust-{uuid.uuid4().hex[:8]}", "phone": MOBILE, "email": EMAIL},
        "title": f"银行卡 {CARD} 被重复扣款，请回电 {MOBILE}",
        "description": f"已扣款。身份证 {CN_ID}，邮箱 {EMAIL}。Card {CARD} charged twice.",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    response = httpx.post(f"{intake}/v1/complaints", json=complaint, timeout=10)
    assert response.status_code == 202, response.text
    complaint_id = response.json()["complaint_id"]
    # Bad input is logged too: a rejected body carrying the same data.
    bad = {**complaint, "channel_event_id": f"pii-{uuid.uuid4().hex}", "occurred_at": "yesterday"}
    assert httpx.post(f"{intake}/v1/complaints", json=bad, timeout=10).status_code == 422

    assert stack.sink is not None
    sink = stack.sink

    def delivered() -> list[dict[str, object]]:
        return [
            d
            for d in sink.received()
            if (d["payload"] or {}).get("data", {}).get("complaint_id") == complaint_id
        ]

    alerts = wait_for(delivered, timeout=RED_SLA_SECONDS + 40, what="the escalation webhook")
    time.sleep(2)  # let every service write the lines of this complaint's journey

    notification = str(alerts[0]["payload"])
    assert "139****5678" in notification, "the owner still sees a recognisable contact"

    scanned: dict[str, list[str]] = {}
    logs = sorted(Path(stack.workdir, "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"intake", "classifier", "escalation", "notifier"}
    for path in [*logs, Path(stack.workdir, "sink.jsonl")]:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        leaks = [
            f"{path.name}:{n}: {hit}"
            for n, line in enumerate(lines, 1)
            for hit in personal_data_in(line)
        ]
        secret_leaks = [
            f"{path.name}:{n}" for n, line in enumerate(lines, 1) if stack.secret in line
        ]
        scanned[path.name] = leaks + secret_leaks
        print(
            f"scanned {path.name}: {len(lines)} lines, {len(leaks)} personal data, "
            f"{len(secret_leaks)} secrets"
        )
    assert {name: hits for name, hits in scanned.items() if hits} == {}
