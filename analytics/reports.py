"""The streaming reports as pure DataFrame steps, the same for the stream and for a batch recomputation over the lake.

Events are counted in tumbling 5-minute buckets (units bought and items wished for per item, searches per term, revenue
per category); a report over the last 30 minutes or hour adds up the buckets of that span when it is read
(`report_store.py`). A bucket is final once the watermark (the latest event time seen, less `LATENESS`) has passed its
end; an event later than that is left out of the stream's figures (it is still in the lake)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from analytics.config import BUCKET_SECONDS

BUCKET = f"{BUCKET_SECONDS} seconds"
LATENESS = "10 minutes"
UNCATEGORISED = "uncategorised"


def _with_category(rows: DataFrame, items: DataFrame) -> DataFrame:
    categories = items.select("item_id", "category")
    return (rows.join(F.broadcast(categories), "item_id", "left")
            .withColumn("category", F.coalesce("category", F.lit(UNCATEGORISED))))


def paid_lines(orders: DataFrame, items: DataFrame) -> DataFrame:
    """Each line of each paid order: (event_time, order_id, item_id, seller_id, title, category, quantity, amount,
    currency)."""
    lines = (orders.where(F.col("type") == "order_placed")
             .select("event_time", "order_id", "currency", F.explode("lines").alias("line"))
             .select("event_time", "order_id", "currency", F.col("line.item_id").alias("item_id"),
                     F.col("line.seller_id").alias("seller_id"), F.col("line.title").alias("title"),
                     F.col("line.quantity").alias("quantity"),
                     (F.col("line.unit_price") * F.col("line.quantity")).alias("amount")))
    return _with_category(lines, items)


def countable(orders: DataFrame, wishlist: DataFrame, searches: DataFrame, items: DataFrame) -> DataFrame:
    """What the trending reports count, as one stream: (event_time, kind, key, units, title, category, zero_results)
    with kind `bought` (key: item, units: quantity), `wishlisted` (key: item) and `searched` (key: the lower-cased
    words of a first-page search)."""
    bought = paid_lines(orders, items).select("event_time", F.lit("bought").alias("kind"), F.col("item_id").alias("key"),
                                              F.col("quantity").alias("units"), "title", "category",
                                              F.lit(0).alias("zero_results"))
    wished = _with_category(wishlist.where(F.col("type") == "item_added").select("event_time", "item_id"), items)
    wished = wished.select("event_time", F.lit("wishlisted").alias("kind"), F.col("item_id").alias("key"),
                           F.lit(1).cast("long").alias("units"), F.lit(None).cast("string").alias("title"), "category",
                           F.lit(0).alias("zero_results"))
    term = F.lower(F.trim(F.col("query")))
    searched = (searches.where(term.isNotNull() & (F.length(term) > 0) & (F.col("page") == 1))
                .select("event_time", F.lit("searched").alias("kind"), term.alias("key"),
                        F.lit(1).cast("long").alias("units"), F.lit(None).cast("string").alias("title"),
                        F.lit(None).cast("string").alias("category"),
                        (F.col("total") == 0).cast("int").alias("zero_results")))
    return bought.unionByName(wished).unionByName(searched)


def _bucketed(rows: DataFrame, watermark: bool) -> DataFrame:
    if watermark:
        rows = rows.withWatermark("event_time", LATENESS)
    return rows.withColumn("bucket", F.window("event_time", BUCKET))


def counts(rows: DataFrame, watermark: bool = False) -> DataFrame:
    """Per bucket, kind and key: units, the title and category seen, and how many found nothing."""
    return (_bucketed(rows, watermark).groupBy("bucket", "kind", "key")
            .agg(F.sum("units").alias("units"), F.max("title").alias("title"), F.max("category").alias("category"),
                 F.sum("zero_results").alias("zero_results"))
            .withColumn("bucket_start", F.col("bucket.start")).drop("bucket"))


def revenue(lines: DataFrame, watermark: bool = False) -> DataFrame:
    """Per bucket, category and currency: revenue, and how many orders it came from. A distinct count over a stream's
    state is HyperLogLog++ in Spark (here at 1% relative error); the batch recomputation uses the same estimator."""
    return (_bucketed(lines, watermark).groupBy("bucket", "category", "currency")
            .agg(F.sum("amount").alias("revenue"), F.approx_count_distinct("order_id", 0.01).alias("orders"))
            .withColumn("bucket_start", F.col("bucket.start")).drop("bucket"))


def daily_sales(lines: DataFrame) -> DataFrame:
    """The batch stage's heavy aggregate: per day, category, seller and currency, units, revenue and orders (exact:
    a batch can count distinct values)."""
    return (lines.withColumn("sales_date", F.to_date("event_time"))
            .groupBy("sales_date", "category", "seller_id", "currency")
            .agg(F.sum("quantity").alias("units"), F.sum("amount").alias("revenue"),
                 F.countDistinct("order_id").alias("orders")))
