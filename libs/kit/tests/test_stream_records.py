"""The faust consumer delivers every stream record, even below the offset it read last."""

from __future__ import annotations

from pathlib import Path

import faust
from faust.types import TP

from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import faust_app, keep_every_stream_record

STREAM = TP("complaints.accepted.v1", 0)
CHANGELOG = TP("complaints-classifier-windows-changelog", 0)


def test_stream_partitions_have_no_read_offset_filter_changelogs_keep_it(
    tmp_path: Path,
) -> None:
    app: faust.App = faust_app(
        "t", KafkaSettings(bootstrap_servers="127.0.0.1:1"), data_dir=tmp_path
    )
    consumer = app.consumer  # created, not started: nothing connects
    keep_every_stream_record(consumer)
    keep_every_stream_record(consumer)  # idempotent
    for tp in (STREAM, CHANGELOG):
        consumer._read_offset[tp] = 45  # what faust sets after delivering offset 45
    # faust's fetch loop reads this mapping: None lets offsets 1..44, read again, through
    read = consumer._read_offset.__getitem__
    assert read(STREAM) is None
    assert read(CHANGELOG) == 45
    assert read(TP("complaints-classifier-windows-changelog", 3)) is None  # never read yet
