"""Domain rules, table-driven: no network, no event loop."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from complaints_intake.domain.dedup import DedupWindow
from complaints_intake.domain.identity import complaint_id
from complaints_intake.domain.normalise import (
    accept,
    detect_language,
    fold_line,
    fold_paragraphs,
    normalise_phone,
)
from complaints_intake.domain.problems import field_errors, validation_problem
from complaints_intake.inbound.kafka.offsets import Outcome, plan
from complaints_kit.clock import FakeClock
from complaints_schemas.events import ComplaintSubmitted

from .factories import complaint

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_complaint_id_is_deterministic_and_distinct() -> None:
    ids = {
        complaint_id("app", "e-1"),
        complaint_id("app", "e-2"),
        complaint_id("web", "e-1"),
        complaint_id("app", "e-1"),
    }
    assert len(ids) == 3
    assert complaint_id("app", "e-1") == complaint_id("app", "e-1")
    assert re.fullmatch(r"CMP-[0-9a-f]{32}", complaint_id("app", "e-1"))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  a  b ", "a b"),
        ("a\t\tb\nc", "a b c"),
        ("支付\u3000失败", "支付 失败"),
        ("one", "one"),
    ],
)
def test_fold_line(text: str, folded: str) -> None:
    assert fold_line(text) == folded


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("a   b", "a b"),
        ("line 1  \n  line 2", "line 1\nline 2"),
        ("p1\n\n\n\n\np2", "p1\n\np2"),
        ("p1\r\n\r\np2\r\n", "p1\n\np2"),
        ("\n\n  x  \n\n", "x"),
    ],
)
def test_fold_paragraphs(text: str, folded: str) -> None:
    assert fold_paragraphs(text) == folded


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (("Payment failed",), "en"),
        (("支付失败",), "zh"),
        (("Refund", "退款没有到账 please help"), "zh"),
        (("Ünïcödé café",), "en"),
        (("",), "en"),
    ],
)
def test_detect_language(texts: tuple[str, ...], language: str) -> None:
    assert detect_language(*texts) == language


@pytest.mark.parametrize(
    ("phone", "normalised"),
    [
        ("13812341234", "13812341234"),
        ("+86 138-1234-1234", "+8613812341234"),
        ("010 8888 6666", "01088886666"),
    ],
)
def test_normalise_phone(phone: str, normalised: str) -> None:
    assert normalise_phone(phone) == normalised


@pytest.mark.parametrize(
    ("overrides", "language"),
    [
        ({}, "en"),
        ({"title": "支付失败"}, "zh"),
        ({"title": "支付失败", "language": "en"}, "en"),
        ({"language": "zh"}, "zh"),
    ],
)
def test_accept_settles_language_and_tidies_text(overrides: dict[str, Any], language: str) -> None:
    submitted = ComplaintSubmitted.model_validate(complaint(**overrides))
    accepted = accept(submitted, complaint_id="CMP-1", accepted_at=T0)
    assert accepted.language == language
    assert accepted.complaint_id == "CMP-1"
    assert accepted.accepted_at == T0
    assert "  " not in accepted.title
    assert "\n\n\n" not in accepted.description
    assert accepted.customer.phone == "+8613812341234"
    assert accepted.channel_event_id == submitted.channel_event_id


def test_accept_keeps_every_submitted_field() -> None:
    submitted = ComplaintSubmitted.model_validate(
        complaint(product_id="P-1", order_id="O-1", title="Late")
    )
    accepted = accept(submitted, complaint_id="CMP-1", accepted_at=T0)
    assert (accepted.product_id, accepted.order_id, accepted.title) == ("P-1", "O-1", "Late")
    assert accepted.occurred_at == submitted.occurred_at


# Each step: (seconds after T0, action, key, expected answer of was_accepted or None).
DEDUP_CASES: dict[str, list[tuple[int, str, str, bool | None]]] = {
    "resend inside the window": [(0, "record", "a", None), (10, "check", "a", True)],
    "unknown key": [(0, "record", "a", None), (1, "check", "b", False)],
    "forgotten after ttl": [(0, "record", "a", None), (60, "check", "a", False)],
    "just inside ttl": [(0, "record", "a", None), (59, "check", "a", True)],
    "repeat keeps first time": [
        (0, "record", "a", None),
        (50, "record", "a", None),
        (61, "check", "a", False),
    ],
    "oldest evicted over capacity": [
        (0, "record", "a", None),
        (1, "record", "b", None),
        (2, "record", "c", None),
        (3, "record", "d", None),
        (4, "check", "a", False),
        (4, "check", "b", True),
        (4, "check", "d", True),
    ],
}


@pytest.mark.parametrize("steps", DEDUP_CASES.values(), ids=DEDUP_CASES.keys())
def test_dedup_window(steps: list[tuple[int, str, str, bool | None]]) -> None:
    clock = FakeClock(T0)
    window = DedupWindow(ttl=timedelta(seconds=60), max_entries=3)
    for seconds, action, key, expected in steps:
        clock.set(T0 + timedelta(seconds=seconds))
        if action == "record":
            window.record(key, now=clock.now())
        else:
            assert window.was_accepted(key, now=clock.now()) is expected, (seconds, key)
    assert len(window) <= 3


@pytest.mark.parametrize(("ttl", "max_entries"), [(timedelta(0), 10), (timedelta(seconds=1), 0)])
def test_dedup_window_refuses_nonsense_bounds(ttl: timedelta, max_entries: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        DedupWindow(ttl=ttl, max_entries=max_entries)


def _errors(body: dict[str, Any] | str) -> list[dict[str, str]]:
    try:
        if isinstance(body, str):
            ComplaintSubmitted.model_validate_json(body)
        else:
            ComplaintSubmitted.model_validate(body)
    except ValidationError as exc:
        return field_errors(exc.errors())
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    ("body", "locations"),
    [
        (complaint(title=""), {"title"}),
        (complaint(channel="fax"), {"channel"}),
        (complaint(customer={}), {"customer.id"}),
        (complaint(occurred_at="2025-03-01T08:30:00"), {"occurred_at"}),
        (complaint(unexpected=1), {"unexpected"}),
        ({k: v for k, v in complaint().items() if k != "description"}, {"description"}),
        ("[1, 2]", {"(body)"}),
        ("{not json", {"(body)"}),
    ],
)
def test_field_errors_name_each_bad_field(body: dict[str, Any] | str, locations: set[str]) -> None:
    assert {e["location"] for e in _errors(body)} == locations


@pytest.mark.parametrize(
    ("errors", "drop", "expected"),
    [
        (
            [{"type": "missing", "loc": ("body", "customer", "id"), "msg": "Field required"}],
            ("body",),
            {"type": "urn:complaints:problem:validation-error", "location": "customer.id"},
        ),
        (
            [{"type": "json_invalid", "loc": ("body", 7), "msg": "x", "ctx": {"error": "bad"}}],
            ("body",),
            {"type": "urn:complaints:problem:malformed-json", "location": "(body)"},
        ),
        (
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}],
            ("body",),
            {"type": "urn:complaints:problem:validation-error", "location": "(body)"},
        ),
        (
            [{"type": "string_too_long", "loc": ("path", "complaint_id"), "msg": "too long"}],
            ("body",),
            {"type": "urn:complaints:problem:validation-error", "location": "path.complaint_id"},
        ),
    ],
)
def test_validation_problem_is_rfc9457(
    errors: list[dict[str, Any]], drop: tuple[str, ...], expected: dict[str, str]
) -> None:
    body = validation_problem(errors, drop_prefix=drop)
    assert body["status"] == 422
    assert body["type"] == expected["type"]
    assert {"title", "detail", "errors"} <= body.keys()
    assert [e["location"] for e in body["errors"]] == [expected["location"]]


def test_malformed_json_error_says_where() -> None:
    [error] = field_errors(
        [{"type": "json_invalid", "loc": ("body", 7), "msg": "x", "ctx": {"error": "Expecting"}}]
    )
    assert error["message"] == "Invalid JSON at character 7: Expecting"


# (partition, offset, ok) outcomes of a batch -> (commit, rewind)
PLAN_CASES: dict[str, tuple[list[tuple[int, int, bool]], dict[int, int], dict[int, int]]] = {
    "all done": ([(0, 5, True), (0, 6, True), (1, 2, True)], {0: 7, 1: 3}, {}),
    "failure stops the partition": (
        [(0, 5, True), (0, 6, False), (0, 7, True)],
        {0: 6},
        {0: 6},
    ),
    "first fails": ([(0, 5, False), (0, 6, True), (1, 1, True)], {1: 2}, {0: 5}),
    "out of order input": ([(0, 7, True), (0, 6, True)], {0: 8}, {}),
    "empty": ([], {}, {}),
}


@pytest.mark.parametrize(
    ("outcomes", "commit", "rewind"), PLAN_CASES.values(), ids=PLAN_CASES.keys()
)
def test_commit_plan(
    outcomes: list[tuple[int, int, bool]], commit: dict[int, int], rewind: dict[int, int]
) -> None:
    result = plan([Outcome(p, o, ok) for p, o, ok in outcomes])
    assert (result.commit, result.rewind) == (commit, rewind)
