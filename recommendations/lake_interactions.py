"""What shoppers did, from the event lake, as weighted interactions for training: an item ordered, added to a cart,
wished for, or searched and clicked. We log no clicks, so a search counts as "searched and clicked" for an item of its
results when the same shopper then carted, wished for or ordered that item within `CLICK_MINUTES` (a click that led
somewhere). Items deleted from the catalog, and items never sellable (never in stock, never ordered), are left out.
Pure DataFrame steps over the lake's tables; `training.py` reads them and collects the result."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from recommendations.kinds import KindWeights

CLICK_MINUTES = 30
COLUMNS = ("user_id", "item_id", "kind", "event_time", "weight", "order_id")


def interactions(orders: DataFrame, cart: DataFrame, wishlist: DataFrame, searches: DataFrame,
                 stock_changes: DataFrame, items: DataFrame, weights: KindWeights) -> DataFrame:
    """(user_id, item_id, kind, event_time, weight, order_id) of every interaction with a live, sellable item
    (`order_id` only for order lines)."""
    none = F.lit(None).cast("string").alias("order_id")
    ordered = (orders.where(F.col("type") == "order_placed")
               .select("user_id", "order_id", F.explode("lines").alias("line"), "event_time")
               .select("user_id", F.col("line.item_id").alias("item_id"), F.lit("ordered").alias("kind"),
                       "event_time", (F.lit(weights.ordered) * F.col("line.quantity")).alias("weight"), "order_id"))
    carted = (cart.where((F.col("type") == "item_added") & (F.col("reason") == "shopper"))
              .select("user_id", "item_id", F.lit("carted").alias("kind"), "event_time",
                      F.lit(weights.carted).alias("weight"), none))
    wished = (wishlist.where(F.col("type") == "item_added")
              .select("user_id", "item_id", F.lit("wished").alias("kind"), "event_time",
                      F.lit(weights.wished).alias("weight"), none))
    acted = ordered.unionByName(carted).unionByName(wished)
    shown = (searches.where(F.col("shopper_id").isNotNull())
             .select(F.col("shopper_id").alias("user_id"), F.explode("top_item_ids").alias("item_id"),
                     F.col("event_time").alias("searched_at")))
    window = F.expr(f"INTERVAL {CLICK_MINUTES} MINUTES")
    clicked = (shown.join(acted.select("user_id", "item_id", F.col("event_time").alias("acted_at")),
                          ["user_id", "item_id"])
               .where((F.col("acted_at") >= F.col("searched_at")) & (F.col("acted_at") <= F.col("searched_at") + window))
               .select("user_id", "item_id", "searched_at").distinct()
               .select("user_id", "item_id", F.lit("searched").alias("kind"), F.col("searched_at").alias("event_time"),
                       F.lit(weights.searched).alias("weight"), none))
    return acted.unionByName(clicked).join(F.broadcast(sellable(items, stock_changes, orders)), "item_id", "left_semi")


def sellable(items: DataFrame, stock_changes: DataFrame, orders: DataFrame) -> DataFrame:
    """(item_id, category) of the catalog's live items that were ever in stock or ever ordered."""
    stocked = stock_changes.where(F.col("in_stock")).select("item_id")
    sold = (orders.where(F.col("type") == "order_placed").select(F.explode("lines").alias("line"))
            .select(F.col("line.item_id").alias("item_id")))
    ever = stocked.unionByName(sold).distinct()
    live = items.where(~F.coalesce(F.col("deleted"), F.lit(False))).select("item_id", "category")
    return live.join(ever, "item_id", "left_semi")


def baskets(orders: DataFrame) -> DataFrame:
    """(order_id, item_id) of every placed order's lines: what was bought together."""
    return (orders.where(F.col("type") == "order_placed").select("order_id", F.explode("lines").alias("line"))
            .select("order_id", F.col("line.item_id").alias("item_id")).distinct())
