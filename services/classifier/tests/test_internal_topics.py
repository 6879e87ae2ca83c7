"""The internal topics the classifier creates before joining its consumer group."""

from __future__ import annotations

from complaints_classifier.app import internal_topics
from complaints_schemas.topics import COMPLAINT_PARTITIONS, Cleanup


def test_repartition_and_changelog_topics() -> None:
    topics = {t.name: t for t in internal_topics("cls")}
    assert set(topics) == {
        "cls-by-customer",
        "cls-by-fingerprint",
        "cls-windows-changelog",
        "cls-customers-changelog",
    }
    assert {t.partitions for t in topics.values()} == {COMPLAINT_PARTITIONS}
    assert topics["cls-windows-changelog"].cleanup is Cleanup.COMPACT
    assert topics["cls-by-customer"].cleanup is Cleanup.DELETE
