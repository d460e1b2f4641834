"""The lake's Spark session: the stack's local Spark (driver heap and master from the settings) with the lake's
settings: Delta's small-table defaults, no console progress bars, quiet logs."""

from __future__ import annotations

from pyspark.sql import SparkSession

from infra import connections
from infra.settings import Settings

LAKE_SPARK = {
    "spark.ui.showConsoleProgress": "false",
    "spark.databricks.delta.snapshotPartitions": "2",  # Delta's log replay: 50 tasks by default, for tiny logs here
    # Listing a table's files (VACUUM) in a Spark job of this many tasks: 10,000 by default, minutes on two cores.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
    "spark.sql.streaming.stateStore.providerClass":
        "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider",
}


def lake_spark(settings: Settings, app_name: str) -> SparkSession:
    spark = connections.spark(settings, app_name, **LAKE_SPARK)
    spark.sparkContext.setLogLevel("ERROR")
    return spark
