"""The notifier process with a routing file over the real broker, against real local peers."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import NotificationDelivered, NotificationFailed, Severity
from complaints_schemas.topics import DELIVERED, ESCALATED, FAILED

from .broker_io import NotifierProcess, free_port, produce, read_all, wait_for
from .factories import SECRET, escalated
from .robot_peers import VendorPeer
from .sink import ScriptedSink
from .test_email import Inbox

pytestmark = pytest.mark.kafka

ROUTING = """
channels:
  void: {{kind: webhook}}
  hook: {{kind: webhook, url: "{hook}", secret_env: HOOK_SECRET}}
  ding: {{kind: dingtalk, url: "{ding}", secret_env: DING_SECRET}}
  fei: {{kind: feishu, url: "{fei}", secret_env: FEI_SECRET}}
  wx: {{kind: wecom, url: "{wx}"}}
  slk: {{kind: slack, url: "{slk}"}}
  mail: {{kind: email, host: 127.0.0.1, port: {smtp}, sender: a@example.com, to: [b@example.com]}}
receivers:
  void: {{channel: void}}
  r-hook: {{channel: hook}}
  r-ding: {{channel: ding, language: en}}
  r-fei: {{channel: fei}}
  r-wx: {{channel: wx, fallback: mail}}
  r-slk: {{channel: slk, language: en}}
  r-mail: {{channel: mail}}
directory:
  owners:
    zw: {{contacts: {{dingtalk: "13800001234", wecom: zhangwei, feishu: ou_1, slack: U1}}}}
  departments:
    {dept}: {{1: [zw]}}
route:
  receivers: [void]
  routes:
    - match: {{department: {dept}}}
      receivers: [r-hook, r-ding, r-fei, r-wx, r-slk, r-mail]
"""


def for_escalation(
    settings: KafkaSettings, topic: str, model: Any, escalation_id: str
) -> list[Any]:
    return [e for e in read_all(settings, topic, model) if e.escalation_id == escalation_id]


def test_every_channel_delivers_once_and_a_permanent_error_is_recorded_then_falls_back(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:10]
    dept = f"dept-{suffix}"
    void = ScriptedSink(secret=SECRET).start()
    hook = ScriptedSink(secret=SECRET).start()
    ding = VendorPeer("dingtalk", secret="SECding")
    fei = VendorPeer("feishu", secret="feisecret")
    wx = VendorPeer("wecom", token="right-key")
    slk = VendorPeer("slack")
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        ROUTING.format(
            hook=hook.url,
            ding=ding.url,
            fei=fei.url,
            wx=wx.url.replace("right-key", "wrong-key"),  # WeCom answers 93000: permanent
            slk=slk.url,
            smtp=smtp_port,
            dept=dept,
        )
    )
    notifier = NotifierProcess.configure(
        kafka_settings, tmp_path, url=void.url, secret=SECRET, routing_file=str(routing)
    )
    notifier.env |= {"HOOK_SECRET": SECRET, "DING_SECRET": "SECding", "FEI_SECRET": "feisecret"}
    try:
        notifier.start()
        event = escalated(
            f"esc-{suffix}", complaint_id=f"c-{suffix}", escalated_at=datetime.now(UTC)
        ).model_copy(update={"department": dept, "severity": Severity.RED})
        produce(kafka_settings, ESCALATED.name, [event])
        delivered = wait_for(
            lambda: (
                found
                if len(
                    found := for_escalation(
                        kafka_settings, DELIVERED.name, NotificationDelivered, event.escalation_id
                    )
                )
                >= 6
                else None
            ),
            timeout=45,
            what=f"six deliveries (log: {notifier.log_path})",
        )
        assert sorted(d.channel for d in delivered) == [
            "ding",
            "fei",
            "hook",
            "mail",
            "mail",
            "slk",
        ]
        assert sorted(d.receiver for d in delivered if d.channel == "mail") == ["r-mail", "r-wx"]
        [failed] = for_escalation(
            kafka_settings, FAILED.name, NotificationFailed, event.escalation_id
        )
        assert (failed.channel, failed.receiver, failed.retryable) == ("wx", "r-wx", False)
        assert "93000" in failed.reason
        # Each peer checked the request as its vendor documents it and saw exactly one.
        assert [r.signature_valid for r in hook.received(event.escalation_id)] == [True]
        assert len(ding.delivered()) == 1
        assert "@13800001234" in ding.delivered()[0].body["markdown"]["text"]
        assert len(fei.delivered()) == 1
        assert len(slk.delivered()) == 1
        assert len(inbox.messages) == 2
        assert (
            notifier.metric("complaints_notifier_deliveries_total", channel="wx", outcome="failed")
            == 1
        )
    finally:
        notifier.stop_quietly()
        smtp.stop()
        for peer in (ding, fei, wx, slk):
            peer.stop()
        hook.stop()
        void.stop()


DIGEST_ROUTING = """
channels:
  void: {{kind: webhook}}
  ding: {{kind: dingtalk, url: "{ding}", secret_env: DING_SECRET, rate_per_minute: 20}}
receivers:
  void: {{channel: void}}
  r-ding: {{channel: ding}}
route:
  receivers: [void]
  routes:
    - match: {{department: {dept}}}
      receivers: [r-ding]
"""


def test_a_robot_over_its_limit_gets_one_digest_not_dropped_alerts(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:10]
    dept = f"dept-{suffix}"
    void = ScriptedSink(secret=SECRET).start()
    ding = VendorPeer("dingtalk", secret="SECding")
    routing = tmp_path / "digest.yaml"
    routing.write_text(DIGEST_ROUTING.format(ding=ding.url, dept=dept))
    notifier = NotifierProcess.configure(
        kafka_settings, tmp_path, url=void.url, secret=SECRET, routing_file=str(routing)
    )
    notifier.env |= {"DING_SECRET": "SECding"}
    try:
        notifier.start()
        now = datetime.now(UTC)
        events = [
            escalated(
                f"esc-{suffix}-{i}", complaint_id=f"c-{suffix}-{i}", escalated_at=now
            ).model_copy(update={"department": dept})
            for i in range(12)
        ]
        ids = {e.escalation_id for e in events}
        produce(kafka_settings, ESCALATED.name, events)
        wait_for(
            lambda: (
                {
                    e.escalation_id
                    for e in read_all(kafka_settings, DELIVERED.name, NotificationDelivered)
                    if e.escalation_id in ids
                }
                == ids
            ),
            timeout=45,
            what=f"all 12 recorded as delivered (log: {notifier.log_path})",
        )
        messages = ding.delivered()
        # A burst of 5 (a quarter of 20/min) goes out at once; what arrives while the robot
        # has no token waits and goes in a digest at the next one. How many tokens come back
        # while 12 trickle in depends on the machine's load (the exact counts are tested on a
        # fake clock in test_grouping), so count what must hold: each alert once, in a digest
        # or alone, and at least one digest.
        texts = [m.body["markdown"]["text"] for m in messages]
        digests = [int(n) for t in texts for n in re.findall(r"【(\d+)条合并】", t)]
        alone = sum("条合并" not in t for t in texts)
        assert alone >= 5
        assert digests
        assert alone + sum(digests) == 12
        assert notifier.metric("complaints_notifier_digested_total", channel="ding") == sum(digests)
        assert ding.hits == ding.delivered()  # nothing refused: stayed under the limit
    finally:
        notifier.stop_quietly()
        ding.stop()
        void.stop()
