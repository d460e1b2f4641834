"""`shop lake`: the streaming job that appends every business event from Kafka to the lake (Delta tables, one per topic,
partitioned by event date) and sets malformed ones apart in the quarantine table; and the report queries, which read
the lake's tables as streams and keep the trending and revenue buckets in Redis (`report_store.py`).

Exactly once: the Kafka offsets of each micro-batch are in the query's checkpoint before the batch runs, and each
table's append carries the batch id as a Delta idempotent-write version (`txnAppId`, `txnVersion`). A batch re-run after
a crash (kill -9 anywhere) reads the same offsets again, and every table that already committed it skips the append."""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from analytics import report_store, reports, transform
from analytics.config import LakeConfig
from analytics.tables import DIMENSIONS, EVENT_TABLES, QUARANTINE

APP_ID = "shop-lake"


def start_events(spark: SparkSession, config: LakeConfig, once: bool = False) -> StreamingQuery:
    """Starts the events query (until stopped, or with `once` until what Kafka holds now is in the lake)."""
    records = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", config.bootstrap)
               .option("subscribe", ",".join(table.topic for table in EVENT_TABLES))
               .option("startingOffsets", config.starting_offsets).option("failOnDataLoss", "false")
               .option("maxOffsetsPerTrigger", config.max_offsets_per_trigger).load())
    writer = (records.writeStream.queryName("lake-events").option("checkpointLocation", config.checkpoint)
              .foreachBatch(lambda batch, batch_id: append_batch(config, batch, batch_id)))
    trigger = {"availableNow": True} if once else {"processingTime": f"{config.trigger_seconds} seconds"}
    return writer.trigger(**trigger).start()


def append_batch(config: LakeConfig, records: DataFrame, batch_id: int) -> None:
    """One micro-batch into every event table and the quarantine, each append at most once per batch id."""
    rows = transform.kafka_rows(records).persist()
    parsed = {table.name: transform.parsed(rows, table).persist() for table in EVENT_TABLES}
    try:
        for table in EVENT_TABLES:
            _append(transform.event_rows(rows, table, parsed[table.name]), config.table(table.name),
                    f"{APP_ID}-{table.name}", batch_id)
        quarantined = None
        for table in EVENT_TABLES:
            bad = transform.quarantined(rows, table, parsed[table.name])
            quarantined = bad if quarantined is None else quarantined.unionByName(bad)
        if quarantined is not None:
            _append(quarantined, config.table(QUARANTINE), f"{APP_ID}-{QUARANTINE}", batch_id)
    finally:
        for frame in parsed.values():
            frame.unpersist()
        rows.unpersist()


def _append(rows: DataFrame, path: str, app_id: str, batch_id: int) -> None:
    (rows.write.format("delta").mode("append").partitionBy("event_date")
     .option("txnAppId", app_id).option("txnVersion", batch_id).save(path))


def ensure_tables(spark: SparkSession, config: LakeConfig) -> None:
    """Every event table, the quarantine and the items dimension exist (empty ones made with their schemas), so
    streams can read them before the first event arrives."""
    from delta.tables import DeltaTable

    kafka = spark.createDataFrame([], "topic string, partition int, offset long, timestamp timestamp, value binary")
    rows = transform.kafka_rows(kafka)
    empty = {table.name: transform.event_rows(rows, table) for table in EVENT_TABLES}
    empty[QUARANTINE] = transform.quarantined(rows, EVENT_TABLES[0])
    schemas = {name: (frame.schema, ["event_date"]) for name, frame in empty.items()}
    schemas.update({name: (spark.createDataFrame([], ddl).schema, []) for name, ddl in DIMENSIONS.items()})
    for name, (schema, partitions) in schemas.items():
        (DeltaTable.createIfNotExists(spark).location(config.table(name)).addColumns(schema)
         .partitionedBy(*partitions).execute())


def start_reports(spark: SparkSession, config: LakeConfig, redis_url: str, prefix: str,
                  once: bool = False) -> list[StreamingQuery]:
    """The trending counts and the revenue, from the lake's order, wishlist and search tables (as streams) into
    Redis, per 5-minute bucket. Each query's state and offsets are in its own checkpoint."""
    import redis

    def stream(name: str) -> DataFrame:
        return spark.readStream.format("delta").load(config.table(name))

    items = spark.read.format("delta").load(config.table("dim_items"))
    store = redis.Redis.from_url(redis_url)
    counted = reports.counts(reports.countable(stream("orders"), stream("wishlist"), stream("searches"), items),
                             watermark=True)
    revenue = reports.revenue(reports.paid_lines(stream("orders"), items), watermark=True)
    trigger = {"availableNow": True} if once else {"processingTime": f"{config.trigger_seconds} seconds"}

    def into(write):
        def batch(frame: DataFrame, batch_id: int) -> None:
            write(store, prefix, [row.asDict() for row in frame.collect()], datetime.now(UTC))
        return batch

    return [
        counted.writeStream.queryName("reports-counts").outputMode("update").trigger(**trigger)
        .option("checkpointLocation", config.table("_checkpoints/reports-counts"))
        .foreachBatch(into(report_store.write_counts)).start(),
        revenue.writeStream.queryName("reports-revenue").outputMode("update").trigger(**trigger)
        .option("checkpointLocation", config.table("_checkpoints/reports-revenue"))
        .foreachBatch(into(report_store.write_revenue)).start(),
    ]
