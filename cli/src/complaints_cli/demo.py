"""Demo traffic: a handful of realistic complaints that exercise every path of the pipeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_DEMO: list[dict[str, Any]] = [
    {
        "channel": "app",
        "customer": {"id": "C-1001", "tier": "vip", "phone": "13812341234", "region": "上海"},
        "title": "支付失败但银行卡已扣款",
        "description": "昨晚下单时提示支付失败，但是银行卡已经扣款 399 元，订单状态还是待支付。",
        "order_id": "O-88001",
        "product_id": "P-PHONE-12",
    },
    {
        "channel": "hotline",
        "customer": {"id": "C-1002", "region": "北京"},
        "title": "充电宝鼓包冒烟",
        "description": "上周买的充电宝今天充电时鼓包并且冒烟，差点起火，非常危险。",
        "product_id": "P-POWERBANK-10K",
    },
    {
        "channel": "email",
        "customer": {"id": "C-1003", "email": "alice@example.com", "region": "Shenzhen"},
        "title": "Parcel tracking not updating",
        "description": "My parcel tracking has not updated for five days and nobody answers.",
        "order_id": "O-88002",
        "product_id": "P-HEADSET-2",
    },
    {
        "channel": "social",
        "customer": {"id": "C-1004", "region": "广州"},
        "title": "再不处理就投诉到12315",
        "description": "退款申请两周没有处理，客服态度很差，再不解决我就向12315投诉并找媒体曝光。",
        "order_id": "O-88003",
    },
    {
        "channel": "web",
        "customer": {"id": "C-1005", "region": "杭州"},
        "title": "优惠券无法使用",
        "description": "双十一领的满减优惠券结算时无法使用，希望给个说法。",
    },
] + [
    {
        "channel": "chat",
        "customer": {"id": f"C-20{n:02d}", "region": "成都"},
        "title": "物流信息一直不更新",
        "description": f"订单物流状态三天没有更新了，快递到底到哪里了？（第{n}位客户）",
        "product_id": "P-KETTLE-1",
        "order_id": f"O-9{n:04d}",
    }
    for n in range(1, 7)
]


def demo_complaints(*, run_id: str, now: datetime) -> list[dict[str, Any]]:
    """The demo set as ComplaintSubmitted JSON, with channel event ids unique to this run."""
    return [
        {**item, "channel_event_id": f"demo-{run_id}-{i}", "occurred_at": now.isoformat()}
        for i, item in enumerate(_DEMO)
    ]
