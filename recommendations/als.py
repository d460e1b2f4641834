"""Implicit-feedback ALS on Spark MLlib: each (user, item) preference goes in as a confidence, the user and item
factors come back as numpy matrices aligned with the interactions' user and item indexes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame, SparkSession

from infra import connections
from infra.settings import Settings
from recommendations.interactions import Interactions, preferences
from recommendations.recommenders import Factors

ALS_SPARK = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",  # interactions of one file, not a cluster's worth
}


@dataclass(frozen=True)
class AlsParams:
    """The defaults did best of a handful tried (rank 16-64, reg 0.01-0.5, alpha 0.5-40, 12-15 iterations) on
    MovieLens-100K and on synthetic purchases, judged on the validation part inside the training part: low alpha wins
    on both (with it, items taken once still count as much as ALS's zeros allow), rank 48 before 32 and 64, and 15
    iterations add a tenth of a percent for a quarter more time."""

    rank: int = 48
    reg: float = 0.1  # Spark scales it by each user's and item's number of interactions
    alpha: float = 2.0  # confidence = 1 + alpha x log(1 + summed weight): a staple bought weekly is not 50x a maybe
    iterations: int = 12
    seed: int = 7
    blocks: int = 4


def als_spark(settings: Settings, app_name: str) -> SparkSession:
    spark = connections.spark(settings, app_name, **ALS_SPARK)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def confidences(spark: SparkSession, interactions: Interactions) -> DataFrame:
    """(user, item, confidence) per pair the interactions hold: the log of one plus the summed weight."""
    had = preferences(interactions)
    rows = zip(had.users.tolist(), had.items.tolist(), np.log1p(had.strength).tolist(), strict=True)
    return spark.createDataFrame(rows, "user int, item int, confidence float", verifySchema=False)


def train(frame: DataFrame, params: AlsParams, users: int, items: int) -> Factors:
    """ALS's factors for `users` x `items` indexes (zero rows for indexes the frame does not hold)."""
    model = ALS(rank=params.rank, maxIter=params.iterations, regParam=params.reg, alpha=params.alpha,
                implicitPrefs=True, userCol="user", itemCol="item", ratingCol="confidence", seed=params.seed,
                numUserBlocks=params.blocks, numItemBlocks=params.blocks).fit(frame)
    return Factors(matrix(model.userFactors, users, params.rank), matrix(model.itemFactors, items, params.rank))


def matrix(factors: DataFrame, size: int, rank: int) -> np.ndarray:
    rows = factors.collect()
    result = np.zeros((size, rank), dtype=np.float32)
    if rows:
        result[[row["id"] for row in rows]] = np.array([row["features"] for row in rows], dtype=np.float32)
    return result


def factorize(spark: SparkSession, params: AlsParams = AlsParams()) -> Callable[[Interactions], Factors]:
    """ALS trained with Spark as `recommendations.evaluate` wants it: interactions in, factors out."""
    def trained(interactions: Interactions) -> Factors:
        if not len(interactions):  # every user's interactions held out: nothing to factorize, ALS knows nobody
            return Factors(np.zeros((len(interactions.user_ids), params.rank), dtype=np.float32),
                           np.zeros((len(interactions.item_ids), params.rank), dtype=np.float32))
        return train(confidences(spark, interactions), params, len(interactions.user_ids),
                     len(interactions.item_ids))

    return trained
