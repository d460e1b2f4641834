"""Builders for the recommendation tests: interactions from (user, item, time[, weight]) rows, factors that know
nothing (so a blend leans on repeat and popularity alone), and one small local Spark session for the ALS runs."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.interactions import Interactions, index_ids
from recommendations.recommenders import Factors


def interactions(*rows: tuple) -> Interactions:
    """Rows of (user_id, item_id, time) or (user_id, item_id, time, weight); times in days for readability."""
    user_ids, users = index_ids(str(row[0]) for row in rows)
    item_ids, items = index_ids(str(row[1]) for row in rows)
    return Interactions(user_ids, item_ids, users, items, np.array([row[2] * 86_400.0 for row in rows]),
                        np.array([row[3] if len(row) > 3 else 1.0 for row in rows]))


def no_factors(train: Interactions) -> Factors:
    return Factors(np.zeros((len(train.user_ids), 4), dtype=np.float32),
                   np.zeros((len(train.item_ids), 4), dtype=np.float32))


def rebuyers(shoppers: int = 30, weeks: int = 6) -> Interactions:
    """Every shopper buys their own three staples each week, and once one of a few popular items."""
    rows = [(f"u{s}", f"staple{s}-{n}", week * 7) for s in range(shoppers) for week in range(weeks) for n in range(3)]
    return interactions(*rows, *((f"u{s}", f"hit{s % 4}", 1) for s in range(shoppers)))


def browsers(shoppers: int = 30, films: int = 12) -> Interactions:
    """Nobody watches a film twice; everybody watches the popular films in the same order, some more of them."""
    return interactions(*((f"u{s}", f"film{f}", f) for s in range(shoppers) for f in range(films - s % 3)))


@pytest.fixture(scope="session")
def spark(settings):
    from recommendations.als import als_spark

    session = als_spark(settings, "tests-recommendations")
    yield session
    session.stop()
