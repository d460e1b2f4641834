"""Pure DataFrame -> DataFrame steps of the lake: Kafka records parsed into their topic's typed rows, and the ones that
are not their topic's record set apart with the reason (the quarantine). No reads or writes here (`job.py` does those)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from analytics.schema import required_fields, struct_of
from analytics.tables import EventTable

KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
CORRUPT = "_corrupt_record"


def kafka_rows(records: DataFrame) -> DataFrame:
    """Kafka source rows -> (kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, value as text)."""
    return records.select(F.col("topic").alias("kafka_topic"), F.col("partition").alias("kafka_partition"),
                          F.col("offset").alias("kafka_offset"), F.col("timestamp").alias("kafka_timestamp"),
                          F.col("value").cast("string").alias("value"))


def parsed(rows: DataFrame, table: EventTable) -> DataFrame:
    """The topic's messages with the record parsed (`event`) and, for one that is not its record, the `reason`: the
    one parse both `event_rows` and `quarantined` take their rows from (a job persists it to parse each message
    once)."""
    return _parsed(rows, table)


def _parsed(rows: DataFrame, table: EventTable) -> DataFrame:
    schema = struct_of(table.record).add(T.StructField(CORRUPT, T.StringType()))
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    parsed = rows.where(F.col("kafka_topic") == table.topic).withColumn("event", F.from_json("value", schema, options))
    missing = F.filter(F.array(*[F.when(F.col(f"event.{name}").isNull(), F.lit(name))
                                 for name in required_fields(table.record)]), lambda name: name.isNotNull())
    reason = (F.when(F.col("value").isNull(), F.lit("empty message"))
              .when(F.col("event").isNull() | F.col(f"event.{CORRUPT}").isNotNull(),
                    F.lit(f"not a {table.record.__name__} record (malformed JSON or a field of the wrong type)"))
              .when(F.size(missing) > 0, F.concat(F.lit("missing required fields: "), F.array_join(missing, ", "))))
    return parsed.withColumn("reason", reason)


def event_rows(rows: DataFrame, table: EventTable, parsed_rows: DataFrame | None = None) -> DataFrame:
    """The topic's records as typed rows: the record's fields, where it came from on Kafka, `event_time` and
    `event_date` (the partition). From `parsed_rows` (`parsed(rows, table)`) when given."""
    parsed = (_parsed(rows, table) if parsed_rows is None else parsed_rows).where(F.col("reason").isNull())
    fields = [F.col(f"event.{name}").alias(name) for name in table.record.model_fields]
    at = _event_time(table)
    return parsed.select(*fields, *KAFKA_COLUMNS, at.alias("event_time")).withColumn("event_date",
                                                                                        F.to_date("event_time"))


def quarantined(rows: DataFrame, table: EventTable, parsed_rows: DataFrame | None = None) -> DataFrame:
    """The topic's messages that are not its record: the raw value, where it came from, and why."""
    return ((_parsed(rows, table) if parsed_rows is None else parsed_rows).where(F.col("reason").isNotNull())
            .select(*KAFKA_COLUMNS, "value", "reason", F.to_date("kafka_timestamp").alias("event_date")))


def _event_time(table: EventTable) -> Column:
    if table.time_field is None:
        return F.col("kafka_timestamp")
    return F.coalesce(F.col(f"event.{table.time_field}").cast("timestamp"), F.col("kafka_timestamp"))
