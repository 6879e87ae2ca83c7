"""Customers match across channels on normalised phone or email, as keyed hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints_classifier.domain.identity import (
    customer_identity,
    normalise_email,
    normalise_phone,
)
from complaints_classifier.domain.pipeline import InMemoryPipeline
from complaints_schemas.events import Channel, ComplaintAccepted, Customer

from .factories import T0, rules
from .test_scope_risk import logistics

KEY = b"identity-key-for-tests-0123456789"
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812341234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("0086 138 1234 1234", "13812341234"),
        ("86-13812341234", "13812341234"),
        ("+1 415-555-0100", "14155550100"),  # not a mainland mobile: digits as they are
        ("021-6123 4567", "02161234567"),
    ],
)
def test_normalise_phone(raw: str, normal: str) -> None:
    assert normalise_phone(raw) == normal


def test_normalise_email() -> None:
    assert normalise_email("  Li.Na@Example.COM ") == "li.na@example.com"


def c(cid: str, phone: str | None = None, email: str | None = None) -> Customer:
    return Customer(id=cid, phone=phone, email=email)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (c("app-1", phone="+86 138-1234-1234"), c("ivr-9", phone="13812341234"), True),
        (c("app-1", email="Li@X.cn"), c("web-2", email="li@x.cn "), True),
        (c("app-1", phone="13812341234"), c("app-2", phone="13900001111"), False),
        # the phone decides when both have one, whatever the emails
        (c("a", "13812341234", "x@a.cn"), c("b", "13812341234", "y@b.cn"), True),
        # no shared kind of contact: by id
        (c("a", phone="13812341234"), c("b", email="li@x.cn"), False),
        (c("same"), c("same"), True),
    ],
)
def test_customers_match_on_phone_or_email(a: Customer, b: Customer, same: bool) -> None:
    assert (customer_identity(a, key=KEY) == customer_identity(b, key=KEY)) is same


def test_the_identity_holds_no_raw_contact_and_depends_on_the_key() -> None:
    customer = Customer(id="app-1", phone="13812341234", email="li@x.cn")
    identity = customer_identity(customer, key=KEY)
    assert "13812341234" not in identity
    kind, digest = identity.split(":")
    assert (kind, len(digest), set(digest) <= set("0123456789abcdef")) == ("phone", 32, True)
    assert identity != customer_identity(customer, key=b"another-key-0123456789")
    assert customer_identity(customer, key=None) == "app-1"  # no key: the customer id


def by(accepted: ComplaintAccepted, *, channel: Channel, customer: Customer) -> ComplaintAccepted:
    return accepted.model_copy(update={"channel": channel, "customer": customer})


def test_the_same_phone_by_app_and_hotline_is_one_customer_a_duplicate() -> None:
    app = Customer(id="app-user-7", phone="+86 138-1234-1234")
    hotline = Customer(id="ivr-caller-55", phone="13812341234")  # another id, same phone
    keyed = InMemoryPipeline(rules(), identity_key=KEY)
    keyed.classify(by(logistics(1, at=T0), channel=Channel.APP, customer=app))
    second = keyed.classify(by(logistics(2, at=T0 + H), channel=Channel.HOTLINE, customer=hotline))
    assert second.duplicate_of == "L-1"
    # Without a key, two customer ids are two customers.
    plain = InMemoryPipeline(rules())
    plain.classify(by(logistics(1, at=T0), channel=Channel.APP, customer=app))
    alone = plain.classify(by(logistics(2, at=T0 + H), channel=Channel.HOTLINE, customer=hotline))
    assert alone.duplicate_of is None
