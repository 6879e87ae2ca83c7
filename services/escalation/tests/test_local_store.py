"""A data directory left by another Kafka cluster is emptied, not trusted."""

from __future__ import annotations

from pathlib import Path

from complaints_escalation.outbound.local_store import MARKER, claim_data_dir


def test_a_data_dir_is_kept_for_its_cluster_and_emptied_for_another(tmp_path: Path) -> None:
    data = tmp_path / "escalation"
    assert claim_data_dir(data, cluster_id="A") is False  # new: claimed
    (data / "v1" / "tables").mkdir(parents=True)
    (data / "v1" / "tables" / "complaint-state-0.db").write_text("rocks")
    assert claim_data_dir(data, cluster_id="A") is False  # same cluster: kept
    assert (data / "v1" / "tables" / "complaint-state-0.db").exists()
    assert claim_data_dir(data, cluster_id="B") is True  # another cluster: emptied
    assert sorted(p.name for p in data.iterdir()) == [MARKER]
    assert (data / MARKER).read_text().strip() == "B"


def test_state_of_unknown_origin_is_not_trusted(tmp_path: Path) -> None:
    data = tmp_path / "escalation"
    (data / "v1").mkdir(parents=True)  # written before directories were claimed
    assert claim_data_dir(data, cluster_id="A") is True
    assert sorted(p.name for p in data.iterdir()) == [MARKER]
