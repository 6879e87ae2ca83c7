"""Alerts speak the owner's language: configured names for clocks, departments, categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints_notifier.domain.display_names import DisplayNames
from complaints_notifier.domain.notification import Context, Notification, Route
from complaints_notifier.outbound.templates import render, title
from complaints_notifier.routing_file import RoutingFileError, load_routing
from complaints_schemas.events import EscalationKind, Scope

from .factories import escalated
from .test_routing import ENV, EXAMPLE

NAMES = load_routing(EXAMPLE, env=ENV).routing.names
FORMATS = ("md", "slack", "txt", "html")


@pytest.mark.parametrize(
    ("kind", "value", "language", "expected"),
    [
        ("clocks", "response", "zh", "响应时限"),
        ("clocks", "response", "en", "response deadline"),
        ("clocks", "resolution", "zh", "解决时限"),
        ("clocks", "closure", "en", "T+3 closure deadline"),
        ("clocks", "refund", "zh", "退款时限"),
        ("clocks", "risk", "zh", "风险处置"),
        ("clocks", "cluster", "zh", "共性问题"),
        ("scopes", "common", "zh", "共性问题"),
        ("scopes", "individual", "en", "individual"),
        ("departments", "customer_service", "zh", "客服中心"),
        ("departments", "customer_service", "en", "Customer service"),
        ("departments", "payments", "zh", "支付部"),
        ("categories", "other", "zh", "其他"),
        ("categories", "logistics", "en", "Logistics / delivery"),
        ("departments", "nowhere", "zh", "nowhere"),  # unknown: the id itself
        ("clocks", "custom_clock", "en", "custom_clock"),
    ],
)
def test_names_table(kind: str, value: str, language: str, expected: str) -> None:
    assert NAMES.name(kind, value, language=language) == expected


def test_configured_names_win_over_built_in_ones() -> None:
    names = DisplayNames(
        configured={"clocks": {"response": {"zh": "首次响应", "en": "first reply"}}}
    )
    assert names.name("clocks", "response", language="zh") == "首次响应"
    assert names.name("clocks", "resolution", language="zh") == "解决时限"
    only_zh = DisplayNames(configured={"departments": {"x": {"zh": "某部"}}})
    assert only_zh.name("departments", "x", language="en") == "某部"


def note(clock: str, language: str, **update: object) -> Notification:
    e = escalated().model_copy(
        update={"clock": clock, "department": "customer_service", "category": "other", **update}
    )
    return Notification(
        e, Route(receiver="r", channel="c"), Context(language=language, names=NAMES)
    )


@pytest.mark.parametrize(
    "clock", ["response", "resolution", "closure", "refund", "risk", "cluster"]
)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_alert_names_its_clock_and_no_raw_id_in_every_format(
    clock: str, language: str
) -> None:
    n = note(clock, language, scope=Scope.COMMON)
    clock_name = NAMES.name("clocks", clock, language=language)
    for fmt in FORMATS:
        text = render(n, format=fmt)  # type: ignore[arg-type]
        headline = text.splitlines()[0] if fmt != "html" else text
        assert clock_name in headline, text
        assert "customer_service" not in text
        assert " · other · " not in text
        assert NAMES.name("scopes", "common", language=language) in text
    assert clock_name in title(n)


def test_the_line_owners_read_in_zh_and_en() -> None:
    zh = render(note("response", "zh"), format="txt")
    assert "部门：客服中心 · 其他 · 个案" in zh
    assert "投诉【响应时限】已超时" in zh
    en = render(note("response", "en"), format="txt")
    assert "Department: Customer service · Other · individual" in en
    warning = render(note("resolution", "en", kind=EscalationKind.WARNING), format="md")
    assert "resolution deadline due soon" in warning


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("names: {planets: {}}", "unknown key 'planets'"),
        ("names: {clocks: {response: {fr: x}}}", "unknown key 'fr'"),
        ("names: {clocks: {response: {zh: ''}}}", "non-empty string"),
        ("names: {clocks: [response]}", "must be a mapping"),
    ],
)
def test_invalid_names_name_the_line(tmp_path: Path, names: str, message: str) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        "channels: {w: {kind: webhook}}\nreceivers: {default: {channel: w}}\n"
        f"route: {{receivers: [default]}}\n{names}\n"
    )
    with pytest.raises(RoutingFileError, match=message):
        load_routing(path, env={})


@pytest.mark.parametrize(
    ("language", "expected"), [("zh", "同类投诉：23 件"), ("en", "Similar complaints: 23")]
)
def test_a_cluster_update_says_how_many_complaints_now(language: str, expected: str) -> None:
    n = note("cluster", language, scope=Scope.COMMON, cluster_id="cl-7", cluster_size=23)
    assert expected in render(n, format="txt")
    assert NAMES.name("clocks", "cluster", language=language) in render(n, format="md")
