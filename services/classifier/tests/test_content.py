"""Table-driven tests of category, department, severity and risk on the shipped rules."""

from __future__ import annotations

import pytest

from complaints_classifier.domain.content import ContentClassifier, raise_one_level
from complaints_classifier.domain.fingerprint import fingerprint
from complaints_schemas.events import CustomerTier, Severity

from .factories import complaint, rules

CLASSIFIER = ContentClassifier(rules())


@pytest.mark.parametrize(
    ("title", "description", "language", "category", "department", "severity"),
    [
        (
            "物流不更新",
            "订单物流信息三天没有更新了",
            "zh",
            "logistics",
            "logistics",
            Severity.GREEN,
        ),
        (
            "Tracking not updating",
            "No tracking update for 3 days.",
            "en",
            "logistics",
            "logistics",
            Severity.GREEN,
        ),
        (
            "账号被盗",
            "我的账号异地登录，余额被转走",
            "zh",
            "account",
            "account_security",
            Severity.RED,
        ),
        (
            "Account hacked",
            "Someone changed my password.",
            "en",
            "account",
            "account_security",
            Severity.RED,
        ),
        ("重复扣款", "同一笔订单扣了两次钱", "zh", "payment", "payments", Severity.RED),
        (
            "Charged twice",
            "I was double charged for one order.",
            "en",
            "payment",
            "payments",
            Severity.RED,
        ),
        ("充电宝鼓包", "用了一周电池鼓包还发烫", "zh", "product_quality", "quality", Severity.RED),
        (
            "Charger caught fire",
            "It started smoking and caught fire.",
            "en",
            "product_quality",
            "quality",
            Severity.RED,
        ),
        (
            "个人信息被泄露",
            "我的手机号和地址被泄露了",
            "zh",
            "account",
            "account_security",
            Severity.RED,
        ),
        ("退款未到账", "退货一周了退款还没到", "zh", "refund", "after_sales", Severity.YELLOW),
        (
            "Refund not received",
            "Returned it two weeks ago.",
            "en",
            "refund",
            "after_sales",
            Severity.YELLOW,
        ),
        (
            "客服态度差",
            "客服态度恶劣还挂电话",
            "zh",
            "service_attitude",
            "customer_service",
            Severity.GREEN,
        ),
        (
            "App crashes",
            "The app keeps crashing on login page.",
            "en",
            "technical",
            "it_app",
            Severity.GREEN,
        ),
        ("优惠券不能用", "满减优惠未生效", "zh", "policy_promotion", "marketing", Severity.GREEN),
        (
            "Wrong bill",
            "I was overcharged this month.",
            "en",
            "billing",
            "billing",
            Severity.YELLOW,
        ),
        ("订单被取消", "无故取消订单", "zh", "order", "order_operations", Severity.GREEN),
        (
            "Hello",
            "Just a question about opening hours.",
            "en",
            "other",
            "customer_service",
            Severity.GREEN,
        ),
        ("ＡＰＰ闪退", "打开就闪退", "zh", "technical", "it_app", Severity.GREEN),  # full-width
    ],
)
def test_category_department_and_severity(
    title: str,
    description: str,
    language: str,
    category: str,
    department: str,
    severity: Severity,
) -> None:
    decision = CLASSIFIER.classify(
        complaint(title=title, description=description, language=language)
    )
    assert (decision.category, decision.department, decision.severity) == (
        category,
        department,
        severity,
    )
    decisions = {r.decision for r in decision.reasons}
    assert {"category", "department", "severity"} <= decisions


@pytest.mark.parametrize(
    ("description", "tier", "annual_spend", "expected", "raise_rule"),
    [
        ("Just a question.", CustomerTier.STANDARD, None, Severity.GREEN, False),
        ("Just a question.", CustomerTier.VIP, None, Severity.YELLOW, True),
        ("Refund not received.", CustomerTier.VIP, None, Severity.RED, True),
        ("Payment failed.", CustomerTier.VIP, None, Severity.RED, True),  # red stays red
        ("Refund not received.", CustomerTier.STANDARD, 90_000.0, Severity.RED, True),
        # LABELLING.md: an annual spend of 50,000 or more is a VIP.
        ("Refund not received.", CustomerTier.STANDARD, 50_000.0, Severity.RED, True),
        ("Refund not received.", CustomerTier.STANDARD, 49_999.0, Severity.YELLOW, False),
    ],
)
def test_vip_raises_one_level(
    description: str,
    tier: CustomerTier,
    annual_spend: float | None,
    expected: Severity,
    raise_rule: bool,
) -> None:
    decision = CLASSIFIER.classify(
        complaint(description=description, tier=tier, annual_spend=annual_spend)
    )
    assert decision.severity is expected
    assert any(r.rule == "severity.raise_for" for r in decision.reasons) is raise_rule


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (Severity.GREEN, Severity.YELLOW),
        (Severity.YELLOW, Severity.RED),
        (Severity.RED, Severity.RED),
    ],
)
def test_raise_one_level(before: Severity, after: Severity) -> None:
    assert raise_one_level(before) is after


@pytest.mark.parametrize(
    ("description", "rule", "phrase"),
    [
        ("再不解决我就打12315投诉", "scope.risk.regulator", "12315"),
        ("已经向消协反映", "scope.risk.regulator", "消协"),
        ("我要找媒体曝光你们", "scope.risk.media", "媒体"),
        ("我已经请了律师准备起诉", "scope.risk.legal", "律师"),
        ("我们几十个人要集体维权", "scope.risk.collective", "集体维权"),
        ("I will contact my lawyer about this.", "scope.risk.legal", "lawyer"),
        ("I will report you to the regulator.", "scope.risk.regulator", "regulator"),
        ("I'm going to sue you.", "scope.risk.legal", "sue"),
        ("Posting this on social media today.", "scope.risk.media", "social media"),
    ],
)
def test_risk_phrase_is_in_the_reasons(description: str, rule: str, phrase: str) -> None:
    decision = CLASSIFIER.classify(complaint(title="Refund not received", description=description))
    assert (decision.risk_rule, decision.risk_phrase) == (rule, phrase)
    (reason,) = [r for r in decision.reasons if r.rule == rule]
    assert reason.decision == "scope"
    assert repr(phrase) in reason.detail


@pytest.mark.parametrize(
    "description",
    ["There is an issue with my order.", "The courier pressed the bell.", "物流不更新"],
)
def test_no_risk_without_a_risk_phrase(description: str) -> None:
    assert CLASSIFIER.classify(complaint(description=description)).risk_rule is None


def test_reasons_name_the_matched_phrase() -> None:
    decision = CLASSIFIER.classify(complaint(title="电池鼓包", description="充电时冒烟"))
    by_decision = {r.decision: r for r in decision.reasons}
    assert by_decision["category"].rule == "category.product_quality.safety_hazard"
    assert by_decision["severity"].rule == "severity.safety_hazard"
    assert "'冒烟'" in by_decision["severity"].detail or "'鼓包'" in by_decision["severity"].detail


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        # zh and en wordings of one problem share the key phrase, hence the fingerprint.
        (dict(title="物流不更新"), dict(title="Tracking not updating"), True),
        (dict(title="物流不更新"), dict(title="物流不更新", customer_id="cust-2"), True),
        (dict(title="物流不更新"), dict(title="物流不更新", product_id="P-200"), False),
        (dict(title="物流不更新"), dict(title="物流不更新", region="Beijing"), False),
        (dict(title="物流不更新"), dict(title="包裹丢失"), False),
        # Components are normalised too: case and width of a product id do not split a kind.
        (dict(title="物流不更新", product_id="ｐ-100"), dict(title="物流不更新"), True),
    ],
)
def test_fingerprint(a: dict[str, str], b: dict[str, str], same: bool) -> None:
    first = CLASSIFIER.classify(complaint("C-1", **a))  # type: ignore[arg-type]
    second = CLASSIFIER.classify(complaint("C-2", **b))  # type: ignore[arg-type]
    assert (first.fingerprint == second.fingerprint) is same


def test_fingerprint_is_stable_and_readable() -> None:
    value = fingerprint(category="logistics", product_id="P-1", region="上海", key="late")
    assert value == fingerprint(category="logistics", product_id="P-1", region="上海", key="late")
    assert value.startswith("logistics.")
    assert len(value) <= 128
