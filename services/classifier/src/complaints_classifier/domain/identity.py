"""Who a customer is across channels: the same normalised phone or email is the same person,
compared as keyed hashes (HMAC-SHA256 with a configured key) so no raw contact is kept in a
table, a topic key or a log line."""

from __future__ import annotations

import hashlib
import hmac
import re

from complaints_schemas.events import Customer

_NOT_DIGIT = re.compile(r"\D")


def normalise_phone(phone: str) -> str:
    """Digits only; a mainland mobile keeps its 11 digits without +86 / 0086 / 86."""
    digits = _NOT_DIGIT.sub("", phone)
    for prefix in ("0086", "86"):
        if (
            digits.startswith(prefix)
            and len(digits) == len(prefix) + 11
            and digits[len(prefix)] == "1"
        ):
            return digits[len(prefix) :]
    return digits


def normalise_email(email: str) -> str:
    return email.strip().lower()


def keyed_hash(value: str, *, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def customer_identity(customer: Customer, *, key: bytes | None) -> str:
    """The key of the customer's history: the keyed hash of the normalised phone, else of the
    email, else (or without a key) the channel's customer id. Two complaints match when they
    share the first of these they both have: a phone-only and an email-only complaint do not."""
    if key is not None:
        if customer.phone and len(phone := normalise_phone(customer.phone)) >= 5:
            return "phone:" + keyed_hash(phone, key=key)
        if customer.email:
            return "email:" + keyed_hash(normalise_email(customer.email), key=key)
    return customer.id
