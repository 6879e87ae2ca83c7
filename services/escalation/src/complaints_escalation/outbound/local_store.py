"""The worker's data directory belongs to one Kafka cluster.

RocksDB keeps each changelog partition's offset; against another cluster (a fresh local
broker, a rebuilt one) those offsets point past the changelog's end and faust refuses to
start. The directory remembers its cluster, and is emptied when the cluster changes: the
states come back from the new cluster's changelog.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "kafka-cluster-id"


def claim_data_dir(data_dir: Path, *, cluster_id: str) -> bool:
    """Make `data_dir` this cluster's; True when it held another cluster's state (now removed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / MARKER
    previous = marker.read_text(encoding="utf-8").strip() if marker.exists() else None
    stale = previous is not None and previous != cluster_id
    if stale or (previous is None and any(data_dir.iterdir())):
        log.warning(
            "local state belongs to another Kafka cluster; removed, recovering from the changelog",
            extra={"data_dir": str(data_dir), "previous_cluster": previous, "cluster": cluster_id},
        )
        for child in data_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        stale = True
    marker.write_text(cluster_id + "\n", encoding="utf-8")
    return stale
