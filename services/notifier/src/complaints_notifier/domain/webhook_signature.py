"""Standard Webhooks signatures (https://www.standardwebhooks.com/): sign and verify.

The signed content is `{msg_id}.{timestamp}.{body}`; the key is the base64 part of a
`whsec_` secret; the header value is a space-separated list of `v1,<base64 HMAC-SHA256>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"
VERSION = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)


class InvalidSecret(ValueError):
    """The secret is not `whsec_` followed by base64."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (prefix optional, like the reference libs)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("webhook secret must be 'whsec_' followed by base64") from exc
    if not key:
        raise InvalidSecret("webhook secret is empty")
    return key


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`."""
    payload = body.encode() if isinstance(body, str) else body
    content = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for a request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    *,
    secret: str,
    msg_id: str,
    timestamp: str | int,
    body: bytes | str,
    signature_header: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """True when a `v1` signature in the header matches and the timestamp is within tolerance."""
    try:
        seconds = int(timestamp)
        expected = sign(secret=secret, msg_id=msg_id, timestamp=seconds, body=body)
    except (ValueError, InvalidSecret):
        return False
    if abs(now.timestamp() - seconds) > tolerance.total_seconds():
        return False
    # Several signatures allow key rotation; unknown versions are ignored, not errors.
    return any(
        hmac.compare_digest(candidate, expected)
        for candidate in signature_header.split()
        if candidate.startswith(f"{VERSION},")
    )
