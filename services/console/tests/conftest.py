"""The read model on both databases: SQLite in a temp dir, and the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from complaints_console.readmodel.database import engine_for, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty read model on each database."""
    if request.param == "sqlite":
        db = engine_for(f"sqlite:///{tmp_path}/readmodel.db")
    else:
        db = engine_for(request.getfixturevalue("postgres_url"))
        with db.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(db)
    yield db
    db.dispose()
