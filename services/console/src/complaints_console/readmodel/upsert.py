"""INSERT ... ON CONFLICT for SQLite and PostgreSQL (both dialects speak it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert unless the primary key is there; True when a row was inserted."""
    key = next(iter(table.primary_key.columns))
    stmt = _insert(conn, table).values(**values).on_conflict_do_nothing().returning(key)
    return conn.execute(stmt).first() is not None


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    *,
    update: Iterable[str] | None = None,
) -> None:
    """Insert, or update `update` columns (default: all given but the key) of the existing row."""
    keys = [c.name for c in table.primary_key.columns]
    columns = [c for c in (update if update is not None else values) if c not in keys]
    stmt = _insert(conn, table).values(**values)
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing()
    conn.execute(stmt)


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"read model on {conn.dialect.name!r}: use SQLite or PostgreSQL")
