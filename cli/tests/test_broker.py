from __future__ import annotations

from complaints_cli.broker import new_cluster_id


def test_cluster_ids_are_22_chars_and_never_look_like_an_option() -> None:
    ids = {new_cluster_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
