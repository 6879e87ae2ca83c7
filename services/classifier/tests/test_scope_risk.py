"""Scope beyond phrases: surge, cluster risk threshold, VIP red; cluster opening; duplicates."""

from __future__ import annotations

from datetime import datetime, timedelta

from complaints_classifier.domain.pipeline import InMemoryPipeline, with_channels
from complaints_classifier.domain.rules import RuleSet
from complaints_schemas.events import Channel, ComplaintAccepted, CustomerTier, Scope, Severity

from .factories import T0, complaint, rules

H = timedelta(hours=1)


def logistics(n: int, *, at: datetime, customer: str | None = None) -> ComplaintAccepted:
    return complaint(
        f"L-{n}",
        title="物流不更新",
        description="快递好几天没动静",
        language="zh",
        customer_id=customer or f"cust-{n}",
        accepted_at=at,
    )


def without_surge() -> RuleSet:
    return rules().model_copy(update={"scope": rules().scope.model_copy(update={"surge": None})})


def without_cluster_risk() -> RuleSet:
    common = rules().scope.common.model_copy(update={"risk_threshold": None})
    return rules().model_copy(update={"scope": rules().scope.model_copy(update={"common": common})})


def with_channel(accepted: ComplaintAccepted, channel: Channel) -> ComplaintAccepted:
    return accepted.model_copy(update={"channel": channel})


def test_sixth_is_common_and_the_opening_is_flagged_once() -> None:
    pipeline = InMemoryPipeline(rules())
    out = [pipeline.classify(logistics(n, at=T0 + n * H)) for n in range(1, 8)]
    assert [e.scope for e in out] == [Scope.INDIVIDUAL] * 4 + [Scope.COMMON] * 3
    assert [e.cluster_opened for e in out] == [False] * 4 + [True, False, False]
    assert [e.cluster_size for e in out[4:]] == [5, 6, 7]
    assert len({e.cluster_id for e in out[4:]}) == 1


def test_surge_against_a_quiet_baseline_is_risk() -> None:
    pipeline = InMemoryPipeline(rules())
    # Six quiet days: one complaint a day (baseline 1 per 24 h).
    for day in range(6):
        assert pipeline.classify(logistics(day, at=T0 + day * 24 * H)).scope is Scope.INDIVIDUAL
    burst_start = T0 + 7 * 24 * H
    out = [pipeline.classify(logistics(100 + n, at=burst_start + n * H)) for n in range(8)]
    assert [e.scope for e in out[:4]] == [Scope.INDIVIDUAL] * 4
    assert [e.scope for e in out[4:7]] == [Scope.COMMON] * 3
    assert out[7].scope is Scope.RISK  # 8 in 24 h >= 3 x baseline 1, and >= min_count 8
    (surge,) = [r for r in out[7].reasons if r.rule == "scope.risk.surge"]
    assert "8 similar complaint(s) within 24h >= 3 x baseline" in surge.detail
    assert out[7].cluster_id == out[4].cluster_id


def test_a_steady_high_rate_is_not_a_surge() -> None:
    pipeline = InMemoryPipeline(without_cluster_risk())
    out = []
    for day in range(8):  # nine a day, every day: baseline 9, no surge
        for n in range(9):
            out.append(pipeline.classify(logistics(day * 100 + n, at=T0 + day * 24 * H + n * H)))
    last_day = out[-9:]
    assert Scope.RISK not in {e.scope for e in last_day}
    assert {e.scope for e in last_day[5:]} == {Scope.COMMON}


def test_a_cluster_past_the_risk_threshold_is_risk() -> None:
    pipeline = InMemoryPipeline(without_surge())
    out = [pipeline.classify(logistics(n, at=T0 + n * timedelta(minutes=10))) for n in range(21)]
    assert out[18].scope is Scope.COMMON
    assert out[19].scope is Scope.RISK  # size 20: the risk threshold
    assert any(r.rule == "scope.risk.cluster_size" for r in out[19].reasons)


def test_a_red_vip_complaint_is_risk() -> None:
    pipeline = InMemoryPipeline(rules())
    vip = pipeline.classify(
        complaint(
            "V-1", title="Payment failed", description="Card charged twice.", tier=CustomerTier.VIP
        )
    )
    standard = pipeline.classify(
        complaint("S-1", title="Payment failed", description="Card charged twice.", customer_id="s")
    )
    assert (vip.scope, standard.scope) == (Scope.RISK, Scope.INDIVIDUAL)
    assert any(r.rule == "scope.risk.vip_red" for r in vip.reasons)


def test_risk_phrase_12315_is_in_the_reasons() -> None:
    out = InMemoryPipeline(rules()).classify(
        complaint(title="退款问题", description="再不处理我就打12315", language="zh")
    )
    assert out.scope is Scope.RISK
    assert any(r.rule == "scope.risk.regulator" and "'12315'" in r.detail for r in out.reasons)


def test_the_same_complaint_through_another_channel_is_a_duplicate_not_counted_twice() -> None:
    pipeline = InMemoryPipeline(rules())
    first = pipeline.classify(logistics(1, at=T0, customer="alice"))
    by_phone = pipeline.classify(
        with_channel(logistics(2, at=T0 + 2 * H, customer="alice"), Channel.HOTLINE)
    )
    by_mail = pipeline.classify(
        with_channel(logistics(3, at=T0 + 3 * H, customer="alice"), Channel.EMAIL)
    )
    assert first.duplicate_of is None
    assert by_phone.duplicate_of == by_mail.duplicate_of == "L-1"
    assert any(r.rule == "correlation.duplicate" for r in by_phone.reasons)
    # Duplicates are not repeats: no severity raise for chasing the same complaint.
    assert "severity.repeat" not in {r.rule for r in by_phone.reasons}
    # Four more customers: L-1 and three others are 4 distinct (not 6); the 5th opens.
    out = [pipeline.classify(logistics(n, at=T0 + n * H)) for n in range(4, 8)]
    assert [e.scope for e in out] == [Scope.INDIVIDUAL] * 3 + [Scope.COMMON]
    assert out[-1].cluster_size == 5


def test_same_channel_again_is_a_repeat_not_a_duplicate() -> None:
    pipeline = InMemoryPipeline(rules())
    pipeline.classify(logistics(1, at=T0, customer="bob"))
    again = pipeline.classify(logistics(2, at=T0 + H, customer="bob"))
    assert again.duplicate_of is None
    assert any(r.rule == "severity.repeat" for r in again.reasons)


def test_a_duplicate_after_the_window_is_a_new_complaint() -> None:
    pipeline = InMemoryPipeline(rules())
    pipeline.classify(logistics(1, at=T0, customer="carol"))
    later = pipeline.classify(
        with_channel(logistics(2, at=T0 + 30 * H, customer="carol"), Channel.HOTLINE)
    )
    assert later.duplicate_of is None


def test_a_vip_raised_to_red_by_tier_alone_is_not_risk() -> None:
    out = InMemoryPipeline(rules()).classify(
        complaint("V-2", title="Refund not received", tier=CustomerTier.VIP)
    )
    assert (out.severity, out.scope) == (Severity.RED, Scope.INDIVIDUAL)


def test_a_cluster_carries_the_channels_its_complaints_came_through() -> None:
    pipeline = InMemoryPipeline(rules())
    channels = [
        Channel.APP,
        Channel.HOTLINE,
        Channel.APP,
        Channel.SOCIAL,
        Channel.CHAT,
        Channel.APP,
    ]
    out = [
        pipeline.classify(with_channel(logistics(n, at=T0 + n * H), ch))
        for n, ch in enumerate(channels, start=1)
    ]
    assert [len(e.cluster_channels) for e in out] == [0, 0, 0, 0, 4, 4]  # once clustered
    assert set(out[-1].cluster_channels) == {
        Channel.APP,
        Channel.HOTLINE,
        Channel.SOCIAL,
        Channel.CHAT,
    }
    assert out[-1].cluster_channels[-1] is Channel.APP  # the most recently seen last
    # A channel not seen within the common window (24h) no longer counts.
    seen = pipeline.windows[out[-1].fingerprint].channels
    clustered = out[-1].model_copy(
        update={"complaint": out[-1].complaint.model_copy(update={"accepted_at": T0 + 27 * H})}
    )
    event, kept = with_channels(clustered, seen, window=24 * H)
    assert set(kept) == {"app", "social", "chat"}  # hotline was last seen at T0 + 2h
    assert event.cluster_channels[-1] is Channel.APP


def test_a_redelivered_complaint_does_not_add_its_channel_twice() -> None:
    pipeline = InMemoryPipeline(rules())
    for n in range(1, 6):
        pipeline.classify(with_channel(logistics(n, at=T0 + n * H), Channel.APP))
    again = pipeline.classify(with_channel(logistics(5, at=T0 + 5 * H), Channel.APP))
    assert again.cluster_channels == (Channel.APP,)
