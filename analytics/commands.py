"""What `shop lake` runs: the streaming job (events into the lake, reports into Redis), the dimension snapshot, the
batch stage's daily sales and the compaction of small files. Each takes a Spark session and the lake's config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession

from analytics import job, reports
from analytics.config import LakeConfig
from analytics.tables import DIMENSIONS, EVENT_TABLES, QUARANTINE


def run_streams(spark: SparkSession, config: LakeConfig, redis_url: str, prefix: str, once: bool,
                say: Callable[[str], Any] = print, refresh_dimensions: Callable[[], Any] | None = None,
                refresh_seconds: float = 600) -> None:
    """With `once`: what Kafka holds now into the lake, then the reports caught up; else both run until stopped,
    snapshotting the dimensions (`refresh_dimensions`) at start and every `refresh_seconds`."""
    job.ensure_tables(spark, config)
    if refresh_dimensions is not None:
        refresh_dimensions()
    events = job.start_events(spark, config, once=once)
    if once:
        events.awaitTermination()
        say(f"lake: events caught up ({_progress(events)})")
    report_queries = job.start_reports(spark, config, redis_url, prefix, once=once)
    if once:
        for query in report_queries:
            query.awaitTermination()
        say("lake: reports caught up")
        return
    say(f"lake: streaming into {config.root} every {config.trigger_seconds:g}s; reports into Redis")
    if refresh_dimensions is None:
        spark.streams.awaitAnyTermination()
        return
    while not spark.streams.awaitAnyTermination(max(1, int(refresh_seconds))):
        refresh_dimensions()


def daily_sales(spark: SparkSession, config: LakeConfig) -> int:
    """Recomputes the `daily_sales` table from the whole lake (the batch stage's heavy aggregate)."""
    orders = spark.read.format("delta").load(config.table("orders"))
    items = spark.read.format("delta").load(config.table("dim_items"))
    table = reports.daily_sales(reports.paid_lines(orders, items))
    table.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(config.table("daily_sales"))
    return spark.read.format("delta").load(config.table("daily_sales")).count()


def compact(spark: SparkSession, config: LakeConfig) -> dict[str, tuple[int, int]]:
    """Rewrites each table's small files into fewer large ones (Delta OPTIMIZE; readers never see a half state) and
    removes the replaced files older than the retention; returns (files before, files after) per table."""
    from delta.tables import DeltaTable

    result = {}
    for name in [table.name for table in EVENT_TABLES] + [QUARANTINE, *DIMENSIONS, "daily_sales"]:
        path = config.table(name)
        if not DeltaTable.isDeltaTable(spark, path):
            continue
        table = DeltaTable.forPath(spark, path)
        before = _files(table)
        table.optimize().executeCompaction()
        table.vacuum()
        result[name] = (before, _files(table))
    return result


def _files(table: Any) -> int:
    return int(table.detail().select("numFiles").first()[0])


def _progress(query: Any) -> str:
    progress = query.lastProgress or {}
    return f"last batch {progress.get('batchId', '-')}, {progress.get('numInputRows', 0)} records"
