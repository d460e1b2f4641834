"""`shop recommend train` and `shop recommend tune`: interactions from the lake, ALS on Spark, the blend chosen on a
time-based validation part (`evaluate.learn_blend`), and a new model version written to Cassandra, then switched to.

A run: read the lake's interactions (`lake_interactions.py`), decay their weights by age, train ALS with the tuned
hyperparameters (or the defaults before any tuning), choose the blend, compute what is stored (`build.py`), write it
all under a new version while readers keep the current one, switch, drop versions retired longer ago than the grace
period. A run that dies before the switch leaves a version in state `writing` that nobody reads; the next run
drops it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics.config import LakeConfig
from recommendations import als, build, lake_interactions
from recommendations.als import AlsParams
from recommendations.blend import Blend
from recommendations.interactions import DAY, Interactions, index_ids
from recommendations.kinds import KINDS, KindWeights
from recommendations.metrics import HeldOut, ndcg
from recommendations.model import learn
from recommendations.recommenders import Signals, recommend
from recommendations.recommenders import als as als_scores
from recommendations.split import train_test
from recommendations.store import ModelVersion, ModelWriter

ITEM_BUCKETS = 16
TUNING_GRID = [AlsParams(rank=rank, reg=reg, alpha=alpha, iterations=iterations)
               for rank in (16, 48) for reg in (0.01, 0.05) for alpha in (5.0, 20.0) for iterations in (10,)]


@dataclass(frozen=True)
class LakeInteractions:
    interactions: Interactions
    kinds: np.ndarray  # the kind code (`KINDS`) of each row
    orders: np.ndarray  # the order index of each row, -1 when it is not an order line
    catalog: build.Catalog


def read_lake(spark: SparkSession, config: LakeConfig, weights: KindWeights,
              half_life_days: float) -> LakeInteractions:
    """Every interaction in the lake, collected, with its weight decayed by age (relative to the newest)."""
    def table(name: str):
        return spark.read.format("delta").load(config.table(name))

    orders, items = table("orders"), table("dim_items")
    frame = lake_interactions.interactions(orders, table("cart"), table("wishlist"), table("searches"),
                                           table("stock_changes"), items, weights)
    rows = (frame.join(items.select("item_id", "category", "title"), "item_id", "left")
            .select("user_id", "item_id", F.col("kind"), F.unix_micros("event_time").alias("at"), "weight",
                    "order_id", "category", "title").collect())
    user_ids, users = index_ids(row.user_id for row in rows)
    item_ids, item_codes = index_ids(row.item_id for row in rows)
    times = np.array([row.at / 1e6 for row in rows], dtype=np.float64)
    weights_ = np.array([row.weight for row in rows], dtype=np.float64)
    if len(times):
        weights_ = weights_ * np.exp2(-(times.max() - times) / (half_life_days * DAY))
    _, order_codes = index_ids(row.order_id or "" for row in rows)
    orders_ = np.where(np.array([bool(row.order_id) for row in rows], dtype=bool), order_codes, -1)
    categories = np.array([""] * len(item_ids), dtype=object)
    titles = [""] * len(item_ids)
    for row, item in zip(rows, item_codes.tolist(), strict=True):
        categories[item], titles[item] = row.category or "", row.title or ""
    interactions = Interactions(user_ids, item_ids, users, item_codes, times, weights_)
    kinds = np.array([KINDS.index(row.kind) for row in rows], dtype=np.int8)
    return LakeInteractions(interactions, kinds, orders_, build.Catalog(categories.astype(str), titles))


def train_model(spark: SparkSession, lake: LakeInteractions, params: AlsParams, writer: ModelWriter,
                grace: timedelta, say: Callable[[str], Any] = print) -> int:
    """Trains, writes a new version, switches readers to it and drops old ones; returns the new version."""
    began = time.monotonic()
    data = lake.interactions
    if not len(data):
        raise ValueError("the lake holds no interactions to train on")
    model = learn(data, 10, als.factorize(spark, params))
    blend, signals = model.blend, model.signals
    factors = signals.factors
    say(f"trained: {len(data):,} interactions, {len(data.user_ids):,} shoppers, {len(data.item_ids):,} items; "
        f"blend {blend}, popularity half-life {model.half_life_days} days ({time.monotonic() - began:.1f}s)")
    now = datetime.now(UTC)
    version = ModelVersion(
        version=int(now.timestamp() * 1000), trained_at=now,
        data_until=datetime.fromtimestamp(float(data.times.max()), UTC),
        params={"als": asdict(params), "blend": asdict(blend), "popularity_half_life_days": model.half_life_days},
        rebuy_categories=build.rebuy_categories(data, lake.kinds, lake.catalog), item_buckets=ITEM_BUCKETS,
        gram=build.gram(signals))
    writer.begin(version, users=int(signals.known.sum()), items=len(data.item_ids))
    written = {
        "shopper lists": writer.for_users(version.version, build.for_users(data, lake.kinds, signals, blend,
                                                                           lake.catalog)),
        "shopper profiles": writer.profiles(version.version, build.profiles(data, lake.kinds, signals)),
        "similar lists": writer.similar(version.version, build.similar(data, lake.kinds, lake.orders, signals,
                                                                       lake.catalog)),
        "popular lists": writer.popular(version.version, build.popular(data, lake.catalog)),
        "item factors": writer.item_factors(version, (
            (data.item_ids[i], str(lake.catalog.categories[i]), float(signals.popularity[i]), factors.items[i])
            for i in range(len(data.item_ids)))),
    }
    previous = writer.switch(version.version)
    dropped = writer.drop_old(version.version, grace, data.user_ids, data.item_ids)
    say(f"model {version.version} written ({', '.join(f'{n:,} {what}' for what, n in written.items())}) and "
        f"switched to (was {previous}); dropped {dropped or 'none'}; {time.monotonic() - began:.1f}s in all")
    return version.version


def tune(spark: SparkSession, data: Interactions, grid: list[AlsParams] = TUNING_GRID, k: int = 10,
         say: Callable[[str], Any] = print) -> tuple[AlsParams, dict[str, float]]:
    """The hyperparameters of `grid` with the best ALS NDCG@k on each shopper's latest interactions (the evaluation's
    time-based split), and every candidate's figure."""
    train, test = train_test(data)
    held_out = HeldOut.of(test.users, test.items, len(data.item_ids))
    figures = {}
    for params in grid:
        signals = Signals.of(train, als.factorize(spark, params)(train))
        hits = held_out.hits(recommend(als_scores, signals, held_out.users, k), np.arange(len(held_out.users)))
        figures[json.dumps(asdict(params))] = float(ndcg(hits, held_out.relevant, k))
        say(f"  {params}: NDCG@{k} {figures[json.dumps(asdict(params))]:.4f}")
    best = max(figures, key=lambda key: figures[key])
    return AlsParams(**json.loads(best)), figures


def blend_of(params: dict) -> Blend:
    return Blend(**params["blend"])
