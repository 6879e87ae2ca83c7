from __future__ import annotations

import pytest

from complaints_schemas.pii import mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 13812341234", "call me on 138****1234"),
        ("电话+86 13912345678谢谢", "电话139****5678谢谢"),
        ("id 11010519491231002X done", "id 110105********002X done"),
        ("card 6222021234567890123", "card 6222********0123"),
        ("mail zhang.san@example.com now", "mail z***@example.com now"),
        ("order 2026112212 is late", "order 2026112212 is late"),
        ("卡号 4111 1111 1111 1111 被扣", "卡号 4111 **** **** 1111 被扣"),
        ("card 6222-0202-0011-2233-446", "card 6222 **** **** 446"),
        ("on 2025-03-01 at 10:00", "on 2025-03-01 at 10:00"),
    ],
)
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected
