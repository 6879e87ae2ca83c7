"""Signatures of the Chinese chat robots: DingTalk and Feishu/Lark (key and message swapped)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), not yet URL-encoded."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def dingtalk_query(*, secret: str, timestamp_ms: int) -> str:
    """`timestamp=…&sign=…` to append to the robot URL (the sign URL-encoded, as documented)."""
    sign = quote_plus(dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms))
    return f"timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(*, secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b"")): the key is the string."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
