"""What the analysts' notebooks (`notebooks/`, opened by `shop notebook`) stand on: the lake in a Spark session with
every table as a temporary view named for it, so a cell asks Spark SQL `FROM orders JOIN dim_items ...`. A table the
lake does not have yet is an empty view of its schema, so a notebook over an empty lake says so instead of failing."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from analytics import transform
from analytics.config import LakeConfig
from analytics.session import LAKE_SPARK
from analytics.tables import DIMENSIONS, EVENT_TABLES, QUARANTINE
from infra import connections
from infra.settings import Settings

NO_DATA = ("No data yet: fill the lake with `./shop lake --once` (the events) and `./shop lake dimensions` "
           "(items with their categories), then run this notebook again.")
TABLE_ROWS_SHOWN = 20  # a DataFrame left at the end of a cell shows as an HTML table of at most this many rows
# A notebook asks many small questions of a small lake: a driver JVM that only compiles quickly (C1, no C2) and
# garbage-collects serially answers them in about half the CPU time, most of it saved on the first queries.
NOTEBOOK_SPARK = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
OPTIONAL_TABLES = ("daily_sales",)  # made by `shop lake daily`; a view only once it exists


def open_lake(settings: Settings, config: LakeConfig, app_name: str) -> SparkSession:
    """The stack's local Spark (the lake's settings, as `shop lake` has them) with every lake table as a view; a
    DataFrame at the end of a cell shows as a table."""
    spark = connections.spark(settings, app_name, **LAKE_SPARK, **NOTEBOOK_SPARK)
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.repl.eagerEval.enabled", "true")
    spark.conf.set("spark.sql.repl.eagerEval.maxNumRows", str(TABLE_ROWS_SHOWN))
    register_views(spark, config)
    return spark


def register_views(spark: SparkSession, config: LakeConfig) -> dict[str, bool]:
    """Each event table, the quarantine, each dimension (and `daily_sales` once made) as a view of its name; returns
    which ones the lake holds."""
    from delta.tables import DeltaTable

    empty = _empty_tables(spark)
    found = {}
    for name in [*empty, *OPTIONAL_TABLES]:
        path = config.table(name)
        found[name] = DeltaTable.isDeltaTable(spark, path)
        if found[name]:
            spark.read.format("delta").load(path).createOrReplaceTempView(name)
        elif name in empty:
            empty[name].createOrReplaceTempView(name)
    return found


def _empty_tables(spark: SparkSession) -> dict[str, DataFrame]:
    """Every table the lake keeps, empty, with the schema `shop lake` gives it."""
    kafka = spark.createDataFrame([], "topic string, partition int, offset long, timestamp timestamp, value binary")
    rows = transform.kafka_rows(kafka)
    empty = {table.name: transform.event_rows(rows, table) for table in EVENT_TABLES}
    empty[QUARANTINE] = transform.quarantined(rows, EVENT_TABLES[0])
    empty.update({name: spark.createDataFrame([], ddl) for name, ddl in DIMENSIONS.items()})
    return empty
