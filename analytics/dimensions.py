"""The dimensions analysts join events against, snapshotted into the lake whole (`shop lake dimensions`): items (from
MongoDB: category, brand, seller, price) and warehouses (from logistics)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import SparkSession

from analytics.tables import DIMENSIONS


async def item_rows(items: Any, at: datetime) -> list[tuple]:
    """One row per stored item (`ItemStore.every_item`), deleted ones flagged."""
    rows = []
    async for batch in items.every_item():
        for doc in batch:
            price = doc.get("price") or {}
            rows.append((doc["_id"], doc.get("seller_id"), doc.get("title"), doc.get("category"), doc.get("brand"),
                         Decimal(price["amount"]) if price.get("amount") is not None else None, price.get("currency"),
                         doc.get("size_class"), bool(doc.get("deleted", False)), at))
    return rows


async def warehouse_rows(serviceability: Any, at: datetime) -> list[tuple]:
    return [(w["warehouse_id"], w.get("name"), w.get("pincode"), at) for w in await serviceability.warehouses()]


def snapshot(spark: SparkSession, path_of, rows: dict[str, list[tuple]]) -> dict[str, int]:
    """Replaces each dimension table with its rows (one Delta commit each: readers see the old or the new whole)."""
    written = {}
    for name, table_rows in rows.items():
        frame = spark.createDataFrame(table_rows, DIMENSIONS[name])
        frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path_of(name))
        written[name] = len(table_rows)
    return written


def now() -> datetime:
    return datetime.now(UTC)
