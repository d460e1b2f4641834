"""MongoDB indexes; only plain single/compound indexes, so they work on FerretDB and MongoDB 6+ alike. Plus one index
FerretDB on SQLite needs below the wire protocol, so that finding a document by `_id` does not scan its collection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

MONGO_INDEXES: dict[str, list[dict]] = {
    "items": [
        # item_id is derived from (seller_id, sku); this keeps a seller's skus unique even if derivation changes.
        {"keys": [("seller_id", 1), ("sku", 1)], "name": "seller_sku", "unique": True},
        {"keys": [("category", 1)], "name": "category"},
    ],
}


FERRETDB_ID_PATH = "_ferretdb_sjson->'$._id'"


def ensure_ferretdb_id_indexes(sqlite_file: Path, collections: Iterable[str] = MONGO_INDEXES) -> list[str]:
    """Index the expression FerretDB 1.x (SQLite backend) filters on for `{"_id": x}`: `_ferretdb_sjson->'$._id'`.

    Its own `_id_` index is on `_ferretdb_sjson->"_id"`, an expression SQLite does not match to that filter, so every
    find, update and replace by `_id` scans the whole table (5.6 ms at 5,000 documents, growing with the collection;
    0.8 ms with this index). FerretDB does not list the index; dropping the collection drops it. Returns the
    collections indexed; nothing when the file is absent (real MongoDB, or another backend)."""
    if not sqlite_file.exists():
        return []
    connection = sqlite3.connect(sqlite_file, timeout=30)
    try:
        tables = dict(connection.execute("SELECT name, table_name FROM _ferretdb_collections").fetchall())
        indexed = [name for name in collections if name in tables]
        for name in indexed:
            table = tables[name]
            connection.execute(f'CREATE INDEX IF NOT EXISTS "{table}_id_path" ON "{table}" ({FERRETDB_ID_PATH})')
        connection.commit()
    finally:
        connection.close()
    return indexed
