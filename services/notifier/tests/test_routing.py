"""Routing: tree matching, owners per level, quiet hours; the routing file and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from complaints_notifier.domain.notification import Route
from complaints_notifier.domain.routing import QuietHours, mentions, owner_names, route
from complaints_notifier.routing_file import RoutingFileError, load_routing
from complaints_schemas.events import Scope, Severity

from .factories import escalated

EXAMPLE = Path(__file__).parents[3] / "config" / "notifier" / "routing.yaml"
POLICY = Path(__file__).parents[3] / "config" / "escalation" / "policy.yaml"
ENV = {
    "DINGTALK_PAYMENTS_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "DINGTALK_PAYMENTS_SECRET": "SECabc",
    "WECOM_LOGISTICS_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "FEISHU_RISK_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
    "FEISHU_RISK_SECRET": "s",
    "SLACK_SRE_URL": "https://hooks.slack.com/services/T/B/X",
    "SMTP_USERNAME": "u",
    "SMTP_PASSWORD": "p",
}
# 10:00 and 23:30 in Beijing (UTC+8)
DAY = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
NIGHT = datetime(2025, 3, 3, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def routing():  # type: ignore[no-untyped-def]
    return load_routing(EXAMPLE, env=ENV, policy_file=POLICY).routing


def esc(department: str, *, severity: str = "yellow", scope: str = "individual", level: int = 1):  # type: ignore[no-untyped-def]
    return escalated(level=level).model_copy(
        update={"department": department, "severity": Severity(severity), "scope": Scope(scope)}
    )


@pytest.mark.parametrize(
    ("department", "severity", "scope", "level", "now", "receivers", "muted"),
    [
        ("payments", "yellow", "individual", 1, DAY, ["payments-oncall"], []),
        ("payments", "yellow", "individual", 3, DAY, ["directors", "payments-oncall"], []),
        ("payments", "yellow", "individual", 1, NIGHT, [], ["payments-oncall"]),
        ("payments", "red", "individual", 1, NIGHT, ["payments-oncall"], []),  # red overrides
        ("logistics", "green", "common", 1, NIGHT, [], ["logistics-team"]),
        ("logistics", "green", "risk", 1, NIGHT, ["risk-room"], []),  # risk: logistics misses
        ("payments", "green", "risk", 1, NIGHT, ["risk-room", "payments-oncall"], []),
        ("marketing", "green", "individual", 1, DAY, ["default"], []),
        ("marketing", "green", "risk", 1, DAY, ["risk-room"], []),
    ],
)
def test_route_tree(routing, department, severity, scope, level, now, receivers, muted) -> None:  # type: ignore[no-untyped-def]
    decision = route(routing, esc(department, severity=severity, scope=scope, level=level), now=now)
    assert [r.receiver for r in decision.routes] == receivers
    assert list(decision.muted) == muted


def test_route_names_the_receivers_channel(routing) -> None:  # type: ignore[no-untyped-def]
    decision = route(routing, esc("payments"), now=DAY)
    assert decision.routes == (Route(receiver="payments-oncall", channel="payments-dingtalk"),)


@pytest.mark.parametrize(
    ("department", "level", "channel", "expected", "owners"),
    [
        ("payments", 1, "payments-dingtalk", ("13800001234",), ("zhang.wei",)),
        ("payments", 2, "payments-dingtalk", ("13900005678",), ("li.na", "payments-leads")),
        (
            "payments",
            5,
            "directors-email",
            ("li.na@example.com", "payments-leads@example.com"),
            None,
        ),
        ("logistics", 1, "logistics-wecom", ("wangfang",), ("wang.fang",)),
        ("logistics", 0, "logistics-wecom", (), ()),
        ("marketing", 1, "risk-feishu", ("ou_7d8a6e6df7621556ce0d21922b676706",), ("li.na",)),
    ],
)
def test_owners_and_mentions(routing, department, level, channel, expected, owners) -> None:  # type: ignore[no-untyped-def]
    escalation = esc(department, level=level)
    assert mentions(routing, escalation, channel=channel) == expected
    if owners is not None:
        assert owner_names(routing, escalation) == owners


@pytest.mark.parametrize(
    ("start", "end", "local", "quiet"),
    [
        (time(22), time(8), time(23, 30), True),
        (time(22), time(8), time(7, 59), True),
        (time(22), time(8), time(8, 0), False),
        (time(22), time(8), time(12), False),
        (time(12), time(14), time(13), True),
        (time(12), time(14), time(14), False),
        (time(9), time(9), time(9), False),
    ],
)
def test_quiet_hours(start: time, end: time, local: time, quiet: bool) -> None:
    hours = QuietHours(start=start, end=end, utc_offset=timedelta(hours=8))
    now = datetime.combine(datetime(2025, 3, 3).date(), local, tzinfo=UTC) - timedelta(hours=8)
    assert hours.contains(now) is quiet


def test_example_file_loads_with_channels() -> None:
    config = load_routing(EXAMPLE, env=ENV, policy_file=POLICY)
    assert config.channels["payments-dingtalk"].options["secret"] == "SECabc"
    assert config.channels["directors-email"].options["port"] == 587
    assert config.routing.receivers["payments-oncall"].fallback == "directors-email"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "channels: {}\nreceivers: {}\nroute:\n  receivers: [nobody]\n",
            4,
            "'nobody' is not defined",
        ),
        (
            "channels:\n  a: {kind: pager}\nreceivers: {}\nroute: {receivers: [x]}\n",
            2,
            "kind must be one of",
        ),
        (
            "channels:\n  a: {kind: dingtalk}\nreceivers: {}\nroute: {}\n",
            2,
            "needs 'url'",
        ),
        (
            "channels:\n  a: {kind: slack, url_env: NOPE}\nreceivers: {}\nroute: {}\n",
            2,
            "'NOPE' is not set",
        ),
        (
            "channels:\n  a: {kind: webhook}\nreceivers:\n  r:\n    channel: a\n"
            "    fallback: b\nroute: {receivers: [r]}\n",
            6,
            "fallback 'b' is not defined",
        ),
        (
            "channels:\n  a: {kind: webhook}\nreceivers:\n  r: {channel: a}\nroute:\n"
            "  receivers: [r]\n  routes:\n    - match: {severity: purple}\n      receivers: [r]\n",
            8,
            "severity purple unknown",
        ),
        (
            "channels:\n  a: {kind: webhook}\nreceivers:\n  r:\n    channel: a\n"
            "    quiet_hours: {start: '25:00', end: '08:00'}\nroute: {receivers: [r]}\n",
            6,
            "quiet_hours.start must be HH:MM",
        ),
        (
            "channels:\n  a: {kind: webhook}\nreceivers:\n  r: {channel: a, colour: red}\n"
            "route: {receivers: [r]}\n",
            4,
            "unknown key 'colour'",
        ),
        (
            "channels:\n  a: {kind: webhook}\nreceivers:\n  r: {channel: a}\nroute: {routes: []}\n",
            5,
            "root route needs 'receivers'",
        ),
        ("channels: [\n", 2, "not valid YAML"),
        ("channels: {}\nchannels: {}\n", 2, "duplicate key"),
    ],
)
def test_routing_file_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    with pytest.raises(RoutingFileError) as raised:
        load_routing(path, env={})
    assert str(raised.value).startswith(f"{path}:{line}: "), str(raised.value)
    assert message in str(raised.value)


def test_the_service_refuses_a_bad_routing_file_before_touching_the_broker(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("channels: {}\nreceivers: {}\nroute:\n  receivers: [ghost]\n")
    env = {
        **os.environ,
        "NOTIFIER_ROUTING_FILE": str(path),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # nothing listens: must not get that far
    }
    done = subprocess.run(
        [sys.executable, "-m", "complaints_notifier"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert f"{path}:4: receiver 'ghost' is not defined" in done.stderr
