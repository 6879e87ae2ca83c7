"""The sliding window per fingerprint, clusters and the scope decision: pure, table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.decision import decide, human_duration
from complaints_classifier.domain.rules import CommonRule
from complaints_classifier.domain.window import WindowState, add_to_window
from complaints_schemas.events import ComplaintAccepted, ComplaintClassified, Scope

from .factories import T0, complaint, rules

RULE = CommonRule(threshold=5, window=timedelta(hours=24))
H = timedelta(hours=1)
CLASSIFIER = ContentClassifier(rules())


class Stream:
    """Feeds complaints through classify -> window -> decide, keeping windows like the table."""

    def __init__(self, rule: CommonRule = RULE) -> None:
        self.rule = rule
        self.windows: dict[str, WindowState] = {}
        self.writes = 0

    def send(self, accepted: ComplaintAccepted) -> ComplaintClassified:
        content = CLASSIFIER.classify(accepted)
        outcome = add_to_window(
            self.windows.get(content.fingerprint),
            fingerprint=content.fingerprint,
            complaint_id=accepted.complaint_id,
            at=accepted.accepted_at,
            rule=self.rule,
        )
        if outcome.changed:
            self.windows[content.fingerprint] = outcome.state
            self.writes += 1
        return decide(content, outcome, rule=self.rule, classified_at=accepted.accepted_at)


def logistics(
    n: int, *, at: datetime, product: str = "P-100", lang: str = "zh"
) -> ComplaintAccepted:
    title = "物流不更新" if lang == "zh" else "Tracking not updating"
    return complaint(
        f"C-{n}",
        title=title,
        customer_id=f"cust-{n}",
        product_id=product,
        accepted_at=at,
        language=lang,
    )


def test_fifth_similar_complaint_is_common_and_later_ones_join_its_cluster() -> None:
    stream = Stream()
    # zh and en alternate: one kind of problem, one fingerprint.
    out = [
        stream.send(logistics(n, at=T0 + n * H, lang="zh" if n % 2 else "en")) for n in range(1, 8)
    ]
    assert [e.scope for e in out] == [Scope.INDIVIDUAL] * 4 + [Scope.COMMON] * 3
    assert [e.cluster_id for e in out[:4]] == [None] * 4
    assert len({e.cluster_id for e in out[4:]}) == 1
    assert [e.cluster_size for e in out] == [None] * 4 + [5, 6, 7]
    assert len({e.fingerprint for e in out}) == 1
    fifth = {r.decision: r for r in out[4].reasons}["scope"]
    assert fifth.rule == "scope.common"
    assert "5 similar complaint(s) within 24h (threshold 5)" in fifth.detail
    assert "opened by this complaint" in fifth.detail
    fourth = {r.decision: r for r in out[3].reasons}["scope"]
    assert (fourth.rule, fourth.detail) == (
        "scope.individual",
        "4 similar complaint(s) within 24h (threshold 5)",
    )


def test_cluster_id_is_deterministic() -> None:
    first, second = Stream(), Stream()
    a = [first.send(logistics(n, at=T0 + n * H)) for n in range(1, 6)]
    b = [second.send(logistics(n, at=T0 + n * H)) for n in range(1, 6)]
    assert a[-1].cluster_id == b[-1].cluster_id is not None


def test_different_product_is_a_separate_fingerprint() -> None:
    stream = Stream()
    out = [
        stream.send(logistics(n, at=T0 + n * H, product="P-1" if n % 2 else "P-2"))
        for n in range(1, 9)
    ]
    assert len({e.fingerprint for e in out}) == 2
    assert {e.scope for e in out} == {Scope.INDIVIDUAL}
    assert stream.send(logistics(9, at=T0 + 9 * H, product="P-1")).scope is Scope.COMMON


@pytest.mark.parametrize(
    ("offsets_h", "expected_last"),
    [
        ([0, 1, 2, 3, 4], Scope.COMMON),  # all five within 24 h
        ([0, 1, 2, 3, 24], Scope.INDIVIDUAL),  # the first is exactly 24 h old: expired
        ([0, 1, 2, 3, 23.9], Scope.COMMON),
        ([0, 30, 31, 32, 33], Scope.INDIVIDUAL),
        ([0, 30, 31, 32, 33, 34], Scope.COMMON),
        ([4, 3, 2, 1, 0], Scope.COMMON),  # out of order, all within the window
    ],
)
def test_entries_older_than_the_window_expire(offsets_h: list[float], expected_last: Scope) -> None:
    stream = Stream()
    out = [stream.send(logistics(n, at=T0 + h * H)) for n, h in enumerate(offsets_h)]
    assert out[-1].scope is expected_last


def test_cluster_closes_when_its_window_empties() -> None:
    stream = Stream()
    opened = [stream.send(logistics(n, at=T0 + n * H)) for n in range(1, 6)][-1]
    assert opened.scope is Scope.COMMON
    # Still entries within the window: later complaints stay in the cluster.
    still = stream.send(logistics(6, at=T0 + 20 * H))
    assert (still.scope, still.cluster_id) == (Scope.COMMON, opened.cluster_id)
    # Two days later everything has expired: a fresh start.
    later = stream.send(logistics(7, at=T0 + 72 * H))
    assert (later.scope, later.cluster_id, later.cluster_size) == (Scope.INDIVIDUAL, None, None)


def test_a_repeated_complaint_id_is_not_counted_twice() -> None:
    stream = Stream()
    for _ in range(3):  # redelivered three times
        stream.send(logistics(1, at=T0))
    out = [stream.send(logistics(n, at=T0 + n * H)) for n in range(2, 5)]
    assert out[-1].scope is Scope.INDIVIDUAL  # four distinct, not six
    again = stream.send(logistics(4, at=T0 + 4 * H))
    assert "already counted" in {r.decision: r for r in again.reasons}["scope"].detail
    assert stream.send(logistics(5, at=T0 + 5 * H)).scope is Scope.COMMON


def test_window_is_written_only_when_it_changes() -> None:
    stream = Stream()
    stream.send(logistics(1, at=T0))
    stream.send(logistics(1, at=T0))  # a redelivery changes nothing
    assert stream.writes == 1


def test_a_complaint_older_than_the_window_is_late_and_individual() -> None:
    stream = Stream()
    for n in range(1, 6):
        stream.send(logistics(n, at=T0 + 48 * H + n * H))
    late = stream.send(logistics(99, at=T0))
    assert (late.scope, late.cluster_id) == (Scope.INDIVIDUAL, None)
    assert {r.decision: r for r in late.reasons}["scope"].rule == "scope.window.late"


def test_risk_wins_over_common_and_keeps_the_cluster() -> None:
    stream = Stream()
    for n in range(1, 5):
        stream.send(logistics(n, at=T0 + n * H))
    risky = complaint(
        "C-5",
        title="物流不更新",
        description="再不处理就打12315",
        customer_id="c5",
        accepted_at=T0 + 5 * H,
    )
    out = stream.send(risky)
    assert out.scope is Scope.RISK
    assert out.cluster_id is not None
    assert {r.rule for r in out.reasons} >= {"scope.risk.regulator", "scope.common"}


@pytest.mark.parametrize(
    ("threshold", "window", "fifth_scope"),
    [(5, "24h", Scope.COMMON), (6, "24h", Scope.INDIVIDUAL), (5, "3h", Scope.INDIVIDUAL)],
)
def test_threshold_and_window_are_configurable(
    threshold: int, window: str, fifth_scope: Scope
) -> None:
    stream = Stream(CommonRule.model_validate({"threshold": threshold, "window": window}))
    out = [stream.send(logistics(n, at=T0 + n * H)) for n in range(1, 6)]
    assert out[-1].scope is fifth_scope


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=24), "24h"),
        (timedelta(days=7), "7d"),
        (timedelta(minutes=30), "30m"),
        (timedelta(seconds=90), "90s"),
    ],
)
def test_human_duration(span: timedelta, text: str) -> None:
    assert human_duration(span) == text


@pytest.mark.parametrize(
    ("signatures", "joined_by_arrival"),
    [
        # Fingerprint mode: the fifth opens the cluster; the four before it joined it.
        ((), [(), (), (), (), ("A1", "A2", "A3", "A4"), ()]),
        # Similarity mode: only the opener's group is told; the other problem stays apart.
        (
            ((1, 200),) * 2 + ((9, 200),) + ((1, 200),) * 3,
            [(), (), (), (), (), ("A1", "A2", "A4", "A5")],
        ),
    ],
)
def test_the_opener_names_the_members_classified_before_it(
    signatures: tuple[tuple[int, int], ...], joined_by_arrival: list[tuple[str, ...]]
) -> None:
    state: WindowState | None = None
    joined = []
    for n in range(1, 7):
        outcome = add_to_window(
            state,
            fingerprint="logistics.p-1",
            complaint_id=f"A{n}",
            at=T0 + n * H,
            rule=RULE,
            signature=((signatures[n - 1],) if signatures else ()),
            customer=f"cust-{n}",
        )
        state = outcome.state
        joined.append(outcome.joined)
        assert bool(outcome.joined) == outcome.opened
    assert joined == joined_by_arrival
