"""What `shop recommend train` and `shop recommend tune` run, given the settings: a Spark session over the lake, a
Cassandra session for the model's tables, and the tuned hyperparameters kept in `rec_tuning`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.config import LakeConfig
from infra import connections
from infra.settings import Settings
from recommendations.als import AlsParams
from recommendations.kinds import KindWeights

TUNED = "SELECT params FROM {ks}.rec_tuning WHERE name = 'default'"
KEEP_TUNED = "INSERT INTO {ks}.rec_tuning (name, params, tuned_at, figures) VALUES ('default', %s, %s, %s)"


def kind_weights(settings: Settings) -> KindWeights:
    return KindWeights(ordered=settings.recommend_weight_ordered, carted=settings.recommend_weight_carted,
                       wished=settings.recommend_weight_wished, searched=settings.recommend_weight_searched)


def tuned_params(session: Any, keyspace: str) -> AlsParams | None:
    row = session.execute(TUNED.replace("{ks}", keyspace)).one()
    return AlsParams(**json.loads(row.params)) if row is not None else None


def train(settings: Settings, lake: LakeConfig, say: Callable[[str], Any] = print,
          params: AlsParams | None = None) -> int:
    """One training run over the lake into the settings' keyspace; returns the version switched to."""
    from analytics.session import lake_spark
    from recommendations.store import ModelWriter
    from recommendations.training import read_lake, train_model

    cluster = connections.cassandra(settings)
    spark = lake_spark(settings, "shop-recommend-train")
    try:
        session = cluster.connect()
        params = params or tuned_params(session, settings.cassandra_keyspace) or AlsParams()
        say(f"ALS: {params}")
        data = read_lake(spark, lake, kind_weights(settings), settings.recommend_half_life_days)
        writer = ModelWriter(session, settings.cassandra_keyspace, settings.cassandra_write_consistency)
        return train_model(spark, data, params, writer, timedelta(seconds=settings.recommend_grace_seconds), say)
    finally:
        spark.stop()
        cluster.shutdown()


def tune(settings: Settings, lake: LakeConfig, say: Callable[[str], Any] = print) -> AlsParams:
    """Tries the tuning grid on the lake's interactions (time-based split) and keeps the best for training."""
    from analytics.session import lake_spark
    from recommendations.training import read_lake
    from recommendations.training import tune as pick

    cluster = connections.cassandra(settings)
    spark = lake_spark(settings, "shop-recommend-tune")
    try:
        data = read_lake(spark, lake, kind_weights(settings), settings.recommend_half_life_days)
        best, figures = pick(spark, data.interactions, say=say)
        cluster.connect().execute(KEEP_TUNED.replace("{ks}", settings.cassandra_keyspace),
                                  (json.dumps(asdict(best)), datetime.now(UTC), json.dumps(figures)))
        return best
    finally:
        spark.stop()
        cluster.shutdown()
