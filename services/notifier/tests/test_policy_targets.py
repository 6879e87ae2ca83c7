"""Who is paged: the escalation policy's chain targets resolve through the directory's roles
(department x role -> receivers and owners); a target with no receiver stops the start."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from complaints_notifier.domain.retry import RetryPolicy
from complaints_notifier.domain.routing import (
    Directory,
    PolicyTarget,
    Receiver,
    RoleEntry,
    RouteNode,
    Routing,
    addressees,
    mentions,
    owner_names,
    route,
    uncovered,
)
from complaints_notifier.inbound.handlers import EscalationHandler
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.routing_file import RoutingFileError, load_routing, policy_targets
from complaints_schemas.events import Scope, Severity

from .factories import T0, escalated
from .test_handlers import AutoClock, RecordingPublisher, ScriptedChannel, record
from .test_routing import ENV, EXAMPLE, POLICY

DAY = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: nobody's quiet hours


@pytest.fixture(scope="module")
def routing() -> Routing:
    return load_routing(EXAMPLE, env=ENV, policy_file=POLICY).routing


def esc(department: str, targets: tuple[str, ...], *, scope: str = "individual", level: int = 1):  # type: ignore[no-untyped-def]
    return escalated(level=level).model_copy(
        update={
            "department": department,
            "targets": targets,
            "scope": Scope(scope),
            "severity": Severity.YELLOW,
        }
    )


@pytest.mark.parametrize(
    ("department", "targets", "receivers", "unresolved"),
    [
        # the department's own entry
        ("payments", ("handler",), ["payments-oncall"], []),
        ("payments", ("team_lead",), ["payments-oncall"], []),
        ("logistics", ("department_owner",), ["logistics-team"], []),
        # a role the department has no entry for: "*"
        ("logistics", ("director",), ["directors"], []),
        ("marketing", ("handler",), ["default"], []),
        # the risk chain: pr and legal share a receiver (paged once), the executive two
        ("payments", ("pr", "legal"), ["risk-room"], []),
        ("marketing", ("executive",), ["directors", "risk-room"], []),  # sorted
        # a target the directory does not know (a clock frozen under an older policy): the
        # routing tree's receivers get it too, never dropped
        ("payments", ("payments-lead",), ["payments-oncall"], ["payments-lead"]),
        ("marketing", ("pr", "ghost"), ["risk-room", "default"], ["ghost"]),
        # no targets at all: the tree
        ("marketing", (), ["default"], []),
    ],
)
def test_targets_resolve_per_department(  # type: ignore[no-untyped-def]
    routing, department, targets, receivers, unresolved
) -> None:
    decision = route(routing, esc(department, targets), now=DAY)
    assert [r.receiver for r in decision.routes] == receivers
    assert list(decision.unresolved) == unresolved


def test_targets_replace_the_tree(routing) -> None:  # type: ignore[no-untyped-def]
    # The tree sends every payments escalation to payments-oncall and every risk one to
    # risk-room as well; the policy's `director` of payments is on-call plus the directors.
    decision = route(routing, esc("payments", ("director",), scope="risk"), now=DAY)
    assert [r.receiver for r in decision.routes] == ["directors", "payments-oncall"]


@pytest.mark.parametrize(
    ("department", "targets", "receiver", "channel", "contacts", "owners"),
    [
        (
            "payments",
            ("team_lead",),
            "payments-oncall",
            "payments-dingtalk",
            ("13900005678",),
            ("li.na", "payments-leads"),
        ),
        (
            "payments",
            ("handler",),
            "payments-oncall",
            "payments-dingtalk",
            ("13800001234",),
            ("zhang.wei",),
        ),
        # pr names li.na, legal nobody: the risk room mentions li.na once
        (
            "marketing",
            ("pr", "legal"),
            "risk-room",
            "risk-feishu",
            ("ou_7d8a6e6df7621556ce0d21922b676706",),
            ("li.na",),
        ),
        ("marketing", ("legal",), "risk-room", "risk-feishu", (), ()),
        # each receiver mentions the owners of the roles routed to it, not the others'
        (
            "payments",
            ("handler", "director"),
            "directors",
            "directors-email",
            ("li.na@example.com",),
            ("li.na",),
        ),
    ],
)
def test_mentions_are_the_owners_of_the_roles_routed_to_the_receiver(  # type: ignore[no-untyped-def]
    routing, department, targets, receiver, channel, contacts, owners
) -> None:
    escalation = esc(department, targets)
    assert mentions(routing, escalation, channel=channel, receiver=receiver) == contacts
    assert owner_names(routing, escalation, receiver=receiver) == owners


DIRECTORY = Directory(
    roles={
        "*": {"handler": RoleEntry(receivers=("desk",))},
        "payments": {"legal": RoleEntry(receivers=("counsel",))},
    }
)


@pytest.mark.parametrize(
    ("target", "departments", "missing"),
    [
        ("handler", frozenset(), []),  # under "*": any department
        ("legal", frozenset(), ["*"]),  # only payments has it: a policy for any department
        ("legal", frozenset({"payments"}), []),
        ("legal", frozenset({"payments", "logistics"}), ["logistics"]),
        ("handler", frozenset({"logistics"}), []),  # logistics uses "*"
        ("press", frozenset(), ["*"]),
    ],
)
def test_uncovered_targets(target: str, departments: frozenset[str], missing: list[str]) -> None:
    found = uncovered(DIRECTORY, [PolicyTarget(target, 7, "here", departments)])
    assert [department for _, department in found] == missing


def test_the_shipped_policy_targets_are_read_with_their_lines() -> None:
    found = policy_targets(POLICY)
    lines = POLICY.read_text().splitlines()
    risk = [t for t in found if t.where == "policy 'risk', clock 'risk', level 1"]
    assert [t.target for t in risk] == ["pr", "legal"]
    assert "targets: [pr, legal]" in lines[risk[0].line - 1]
    assert {t.target for t in found} == {
        "handler",
        "team_lead",
        "department_owner",
        "director",
        "pr",
        "legal",
        "executive",
    }


ROUTING_FILE = """\
channels:
  hook: {kind: webhook}
receivers:
  desk: {channel: hook}
  counsel: {channel: hook}
directory:
  roles:
    "*":
      handler: {receivers: [desk]}
    payments:
      legal: {receivers: [counsel]}
route:
  receivers: [desk]
"""

POLICY_FILE = """\
version: t
policies:
  - name: payments-risk
    match: {department: [payments]}
    clocks:
      - name: risk
        target: 0 minutes
        chain:
          levels:
            - {after: 0 minutes, targets: [legal]}
  - name: default
    match: {}
    clocks:
      - name: response
        target: 10 minutes
        chain:
          levels:
            - {after: 0 minutes, targets: [handler]}
            - {after: 10 minutes, targets: [team_lead]}
"""


def test_a_target_without_a_receiver_is_an_error_naming_the_policy_file_and_line(
    tmp_path: Path,
) -> None:
    routing_path, policy_path = tmp_path / "routing.yaml", tmp_path / "policy.yaml"
    routing_path.write_text(ROUTING_FILE)
    policy_path.write_text(POLICY_FILE)
    with pytest.raises(RoutingFileError) as raised:
        load_routing(routing_path, env={}, policy_file=policy_path)
    message = str(raised.value)
    # team_lead (line 19) has no receiver anywhere; legal (line 10) only in payments, which is
    # the only department its policy matches, and handler is under "*": both fine.
    assert message.startswith(f"{policy_path}:19: target 'team_lead'"), message
    assert "policy 'default', clock 'response', level 2" in message
    assert str(routing_path) in message
    assert message.count("\n") == 0  # one problem, one line


def test_roles_without_the_policy_file_is_an_error(tmp_path: Path) -> None:
    routing_path = tmp_path / "routing.yaml"
    routing_path.write_text(ROUTING_FILE)
    with pytest.raises(RoutingFileError) as raised:
        load_routing(routing_path, env={})
    assert str(raised.value).startswith(f"{routing_path}:6: directory.roles")
    assert "NOTIFIER_POLICY_FILE" in str(raised.value)


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        ("legal: {receivers: [nobody]}", 11, "receiver 'nobody' is not defined"),
        ("legal: {owners: [x]}", 11, "needs 'receivers'"),
        ("legal: {receivers: [counsel], owners: [ghost]}", 11, "owner 'ghost' is not in"),
        ("legal: {receivers: [counsel], colour: red}", 11, "unknown key 'colour'"),
    ],
)
def test_role_entry_errors_name_file_and_line(
    tmp_path: Path, entry: str, line: int, message: str
) -> None:
    routing_path, policy_path = tmp_path / "routing.yaml", tmp_path / "policy.yaml"
    routing_path.write_text(ROUTING_FILE.replace("legal: {receivers: [counsel]}", entry))
    policy_path.write_text(POLICY_FILE)
    with pytest.raises(RoutingFileError) as raised:
        load_routing(routing_path, env={}, policy_file=policy_path)
    assert str(raised.value).startswith(f"{routing_path}:{line}: "), str(raised.value)
    assert message in str(raised.value)


def test_the_service_refuses_to_start_when_a_target_has_no_receiver(tmp_path: Path) -> None:
    routing_path, policy_path = tmp_path / "routing.yaml", tmp_path / "policy.yaml"
    routing_path.write_text(ROUTING_FILE)
    policy_path.write_text(POLICY_FILE)
    env = {
        **os.environ,
        "NOTIFIER_ROUTING_FILE": str(routing_path),
        "NOTIFIER_POLICY_FILE": str(policy_path),
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
    assert f"{policy_path}:19: target 'team_lead'" in done.stderr
    assert "Traceback" not in done.stderr


class Capturing(ScriptedChannel):
    def __init__(self) -> None:
        super().__init__([])
        self.notifications = []  # type: ignore[var-annotated]

    async def send(self, notification, *, now):  # type: ignore[no-untyped-def]
        self.notifications.append(notification)
        return await super().send(notification, now=now)


async def test_the_handler_pages_the_targets_receivers_and_counts_unknown_targets() -> None:
    desk, counsel = Capturing(), Capturing()
    desk.name, counsel.name = "desk-hook", "counsel-hook"
    registry = CollectorRegistry()
    publisher = RecordingPublisher()
    handler = EscalationHandler(
        channels={"desk-hook": desk, "counsel-hook": counsel},
        receivers=(),
        dedup=set(),
        publisher=publisher,
        policy=RetryPolicy(max_attempts=1),
        clock=AutoClock(T0),
        jitter=lambda: 0.0,
        metrics=NotifierMetrics(registry, channels=("desk-hook", "counsel-hook")),
        routing=Routing(
            tree=RouteNode(receivers=("desk",)),
            receivers={
                "desk": Receiver(name="desk", channel="desk-hook"),
                "counsel": Receiver(name="counsel", channel="counsel-hook"),
            },
            channel_kinds={"desk-hook": "webhook", "counsel-hook": "webhook"},
            directory=DIRECTORY,
        ),
    )
    await handler.handle(record(esc("payments", ("legal",))))
    assert [n.route.receiver for n in counsel.notifications] == ["counsel"]
    assert desk.notifications == []  # the tree's default is not paged for a known target
    assert registry.get_sample_value("complaints_notifier_unresolved_targets_total") == 0
    await handler.handle(
        record(esc("payments", ("payments-lead",)).model_copy(update={"escalation_id": "esc-old"}))
    )
    assert [n.route.receiver for n in desk.notifications] == ["desk"]  # the tree, not dropped
    assert registry.get_sample_value("complaints_notifier_unresolved_targets_total") == 1
    assert [e.receiver for e in publisher.delivered_events] == ["counsel", "desk"]


def test_addressees_without_roles_use_the_tree() -> None:
    plain = Routing(
        tree=RouteNode(receivers=("desk",)),
        receivers={"desk": Receiver(name="desk", channel="hook")},
        channel_kinds={"hook": "webhook"},
    )
    found = addressees(plain, esc("payments", ("legal",)))
    assert (found.receivers, found.by_targets, found.unresolved) == (("desk",), False, ())
