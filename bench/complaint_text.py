"""Realistic complaint wording in Chinese and English, per category, for the load generator.

Each problem has a few phrasings in each language that the shipped rules recognise
(config/classifier/rules.yaml), so generated traffic spreads over the categories,
severities and scopes the way real traffic does: mostly individual green/yellow
complaints, some red ones (payments, account takeover, safety), a few with risk words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One kind of problem: its category, the products it happens to, and its wordings."""

    category: str
    key: str
    products: tuple[str, ...]
    zh: tuple[tuple[str, str], ...]  # (title, description)
    en: tuple[tuple[str, str], ...]


PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "account",
        "account_stolen",
        ("P-APP",),
        zh=(
            (
                "账号被盗了",
                "今天早上收到异地登录提醒，地点在广州，我人在北京，余额被转走了两千多。",
            ),
            ("账户异常登录", "我的账户在陌生设备上登录，还被人改了密码，不是我本人操作的。"),
        ),
        en=(
            (
                "Account hacked",
                "Someone logged into my account from another city and changed the password.",
            ),
            (
                "Unauthorized login",
                "I got a suspicious login alert at 3am and now my saved cards are exposed.",
            ),
        ),
    ),
    Problem(
        "account",
        "cannot_log_in",
        ("P-APP",),
        zh=(("登录不了", "一直提示密码错误，找回密码也收不到验证码，已经两天登不上了。"),),
        en=(
            (
                "Cannot log in",
                "The verification code is never received, so I cannot log in to check my orders.",
            ),
        ),
    ),
    Problem(
        "payment",
        "payment_failed",
        ("P-PHONE-12", "P-LAPTOP-3", "P-TV-55"),
        zh=(
            ("支付失败", "下单时提示支付失败，换了两张银行卡都付不了，活动马上就结束了。"),
            ("付款一直失败", "微信和支付宝都试过，付款一直失败，页面显示交易失败。"),
        ),
        en=(
            (
                "Payment failed",
                "Checkout timed out and my card was declined three times; it works elsewhere.",
            ),
        ),
    ),
    Problem(
        "payment",
        "double_charge",
        ("P-PHONE-12", "P-HEADSET-2", "P-KETTLE-1"),
        zh=(("重复扣款", "同一个订单被扣了两次款，银行账单上有两条扣款记录，请尽快退回。"),),
        en=(
            (
                "Charged twice",
                "I was charged twice for the same order; the statement shows a duplicate charge.",
            ),
        ),
    ),
    Problem(
        "refund",
        "refund_not_received",
        ("P-SHOE-07", "P-COAT-4", "P-HEADSET-2"),
        zh=(
            ("退款未到账", "退货已经签收十天了，退款还没到账，客服只说再等等。"),
            ("钱一直没退", "申请退款两周了钱一直没退，订单显示退款成功但我没看到这笔钱。"),
        ),
        en=(
            (
                "Where is my refund",
                "The return was received two weeks ago and I still have no refund.",
            ),
        ),
    ),
    Problem(
        "logistics",
        "tracking_not_updating",
        ("P-KETTLE-1", "P-TV-55", "P-COAT-4", "P-HEADSET-2"),
        zh=(
            (
                "物流信息一直不更新",
                "订单物流状态三天没有更新了，一直停在中转站，快递到底到哪里了？",
            ),
            ("物流不更新", "物流一直没更新，显示卡在分拣中心，问客服也说不清楚。"),
        ),
        en=(
            (
                "Tracking not updating",
                "My parcel tracking has not updated for five days and it is stuck in transit.",
            ),
            (
                "Tracking stuck",
                "The tracking page hasn't moved since Monday; same status at the sorting centre.",
            ),
        ),
    ),
    Problem(
        "logistics",
        "lost_or_damaged_parcel",
        ("P-TV-55", "P-VASE-9", "P-KETTLE-1"),
        zh=(("包裹破损", "收到的包裹外包装破损，电视屏幕压坏了，快递员放下就走了。"),),
        en=(
            (
                "Parcel damaged",
                "The box arrived crushed and the screen is smashed; it was damaged in transit.",
            ),
        ),
    ),
    Problem(
        "order",
        "wrong_item",
        ("P-SHOE-07", "P-COAT-4"),
        zh=(("发错货", "买的是黑色42码收到的是白色40码，发错货了，请尽快补发。"),),
        en=(
            (
                "Wrong item",
                "I ordered a black coat in size M and received the wrong size and colour.",
            ),
        ),
    ),
    Problem(
        "product_quality",
        "safety_hazard",
        ("P-POWERBANK-10K", "P-KETTLE-1", "P-HEATER-2"),
        zh=(
            ("充电宝鼓包冒烟", "上周买的充电宝今天充电时鼓包并且冒烟，差点起火，非常危险。"),
            ("电水壶漏电", "烧水的时候被电了一下，水壶漏电，太危险了。"),
        ),
        en=(
            (
                "Battery swelling",
                "The power bank's battery is swelling and there was a burning smell.",
            ),
        ),
    ),
    Problem(
        "product_quality",
        "defect",
        ("P-PHONE-12", "P-HEADSET-2", "P-TV-55", "P-LAPTOP-3"),
        zh=(
            ("质量问题", "用了不到一周就无法开机，充不进电，质量太差了。"),
            ("耳机没声音", "新买的耳机左边没有声音，重新配对也不行，质量问题。"),
        ),
        en=(
            (
                "Stopped working",
                "The headset stopped working after three days; the left side is faulty.",
            ),
        ),
    ),
    Problem(
        "service_attitude",
        "no_response",
        ("P-APP",),
        zh=(("客服没人回复", "在线客服排队排了一个小时没人回复，电话也打不通客服，一直忙音。"),),
        en=(
            (
                "No reply from support",
                "Nobody has followed up on my ticket; I have been on hold for an hour.",
            ),
        ),
    ),
    Problem(
        "service_attitude",
        "rude_staff",
        ("P-APP",),
        zh=(("客服态度差", "客服态度很差，不耐烦，话没说完就挂了电话。"),),
        en=(("Rude agent", "The agent was rude and condescending and then closed the chat."),),
    ),
    Problem(
        "policy_promotion",
        "coupon_not_applied",
        ("P-PHONE-12", "P-SHOE-07"),
        zh=(("优惠券无法使用", "双十一领的满减优惠券结算时无法使用，希望给个说法。"),),
        en=(
            (
                "Coupon not applied",
                "The promo code from the newsletter is not applied at checkout.",
            ),
        ),
    ),
)

# Wording that makes a complaint a risk (media, regulator, lawyer), appended now and then.
RISK_SUFFIX_ZH = ("再不解决我就向12315投诉并找媒体曝光。", "我会去消费者协会投诉。")
RISK_SUFFIX_EN = (
    "If this is not fixed I will contact a lawyer.",
    "I will report this to the regulator.",
)

REGIONS_ZH = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京")
REGIONS_EN = ("Shanghai", "Beijing", "Shenzhen", "Hong Kong", "Singapore", "London")
CHANNELS = ("app", "app", "chat", "chat", "hotline", "web", "email", "social")


@dataclass(frozen=True, slots=True)
class Cluster:
    """What a burst of alike complaints shares: same problem, product and region."""

    problem: Problem
    product: str
    region: str
    language: str


def random_cluster(rng: random.Random) -> Cluster:
    """A problem that many customers hit at once (a common issue in the making)."""
    problem = rng.choice(PROBLEMS)
    language = "zh" if rng.random() < 0.7 else "en"
    regions = REGIONS_ZH if language == "zh" else REGIONS_EN
    return Cluster(problem, rng.choice(problem.products), rng.choice(regions), language)


def complaint_body(
    rng: random.Random,
    *,
    seq: int,
    run_id: str,
    occurred_at: str,
    vip: bool,
    cluster: Cluster | None = None,
    risk_share: float = 0.03,
) -> dict[str, object]:
    """One ComplaintSubmitted JSON body; `cluster` fixes problem, product and region."""
    chosen = cluster or random_cluster(rng)
    wordings = chosen.problem.zh if chosen.language == "zh" else chosen.problem.en
    title, description = rng.choice(wordings)
    if rng.random() < risk_share:
        suffixes = RISK_SUFFIX_ZH if chosen.language == "zh" else RISK_SUFFIX_EN
        description = f"{description} {rng.choice(suffixes)}"
    customer: dict[str, object] = {
        "id": f"LG-{run_id}-{rng.randrange(1_000_000)}",
        "tier": "vip" if vip else "standard",
        "region": chosen.region,
    }
    if chosen.language == "zh":
        customer["phone"] = f"138{rng.randrange(10**8):08d}"
    else:
        customer["email"] = f"user{rng.randrange(10**6)}@example.com"
    body: dict[str, object] = {
        "channel": rng.choice(CHANNELS),
        "channel_event_id": f"lg-{run_id}-{seq}",
        "customer": customer,
        "title": title,
        "description": description,
        "product_id": chosen.product,
        "occurred_at": occurred_at,
        "language": chosen.language,
    }
    if chosen.problem.category in {"payment", "refund", "logistics", "order"}:
        body["order_id"] = f"O-{run_id}-{seq}"
    return body
