"""The chat robots answer HTTP 200 with an error code in the body: which codes are worth a retry."""

from __future__ import annotations

from complaints_notifier.domain.outcome import Delivered, Outcome, Permanent, Retryable

# DingTalk custom robot: 130101 "send too fast" (20 messages a minute), -1 "system busy".
# Permanent: 300001 token does not exist, 310000 keyword/signature/IP check failed,
# 400013 group disbanded, 400101 access_token missing, 410100 robot disabled.
DINGTALK_RETRYABLE = frozenset({-1, 130101, 130102})
# WeCom group robot: 45009 "api freq out of limit" (20 a minute), -1 system busy.
# Permanent: 93000 invalid webhook url (key), 40008 invalid message type, 44004 empty content,
# 40058 invalid json / parameter, 93017 robot disabled.
WECOM_RETRYABLE = frozenset({-1, 45009, 45033})
# Feishu/Lark custom bot: 11232 "frequency limited" (100 a minute, 5 a second), 9499 system busy
# is a bad-request catch-all and not retried. Permanent: 19021 signature or timestamp,
# 19022 IP not allowed, 19024 keyword missing, 19001 param invalid, 11105 bot token invalid.
FEISHU_RETRYABLE = frozenset({11232, 11233})

RATE_LIMITED = frozenset({130101, 130102, 45009, 11232, 11233})


def classify_code(
    code: int | None, message: str, *, retryable: frozenset[int], vendor: str
) -> Outcome:
    """0 (or absent) delivered; a listed code retryable; any other code permanent."""
    if code is None or code == 0:
        return Delivered()
    reason = f"{vendor} {code}: {message}"[:300]
    if code in retryable:
        return Retryable(reason, rate_limited=code in RATE_LIMITED)
    return Permanent(reason)
