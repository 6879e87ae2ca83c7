"""Signed, expiring acknowledge links: minted by the notifier, redeemed by intake (GET /v1/ack/…).

A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(secret, claims JSON))`; the secret
is shared through ACK_LINK_SECRET. Pure stdlib, so both services' domains can use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

VERSION = 1
Problem = Literal["malformed", "signature", "expired"]


@dataclass(frozen=True, slots=True)
class AckClaims:
    complaint_id: str
    escalation_id: str
    receiver: str
    expires_at: datetime
    clock: str | None = None  # the clock the alert is about; absent in links minted before

    @property
    def actor(self) -> str:
        return f"ack-link:{self.receiver}"


class InvalidAckToken(ValueError):
    """`problem` says why: malformed, signature (altered or foreign), expired."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem: Problem = problem


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def sign_ack_token(claims: AckClaims, *, secret: str) -> str:
    """A URL-safe token carrying the claims."""
    fields: dict[str, object] = {
        "v": VERSION,
        "c": claims.complaint_id,
        "e": claims.escalation_id,
        "r": claims.receiver,
        "exp": int(claims.expires_at.timestamp()),
    }
    if claims.clock is not None:
        fields["k"] = claims.clock
    payload = json.dumps(
        fields,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_ack_token(token: str, *, secret: str, now: datetime) -> AckClaims:
    """The claims of a genuine, unexpired token; raises InvalidAckToken otherwise."""
    head, sep, tail = token.partition(".")
    if not sep or not head or not tail or len(token) > 2048:
        raise InvalidAckToken("malformed")
    try:
        payload, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise InvalidAckToken("malformed") from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidAckToken("signature")
    try:
        data = json.loads(payload)
        claims = AckClaims(
            complaint_id=str(data["c"]),
            escalation_id=str(data["e"]),
            receiver=str(data["r"]),
            expires_at=datetime.fromtimestamp(int(data["exp"]), UTC),
            clock=None if data.get("k") is None else str(data["k"]),
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidAckToken("malformed") from None
    if now >= claims.expires_at:
        raise InvalidAckToken("expired")
    return claims


def ack_event_id(token: str) -> str:
    """The lifecycle event id of redeeming `token`: the same on every reuse, so it is ignored."""
    return "ack-" + hashlib.sha256(token.encode()).hexdigest()[:32]
