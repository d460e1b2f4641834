"""The made-up purchases look like purchases: skewed, rebought, in baskets, the same for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.interactions import parse, preferences, write_csv
from recommendations.synthetic import Shop, purchases

pytestmark = pytest.mark.unit


def test_the_same_seed_makes_the_same_purchases():
    first, second = purchases(Shop(shoppers=50, seed=4)), purchases(Shop(shoppers=50, seed=4))

    assert first.user_ids == second.user_ids and np.array_equal(first.items, second.items)


def test_a_few_items_sell_most_and_shoppers_rebuy_their_staples():
    data = purchases(Shop(shoppers=500, items=1000))

    sales = np.sort(np.bincount(data.items))[::-1]
    assert sales[: len(sales) // 10].sum() > 0.5 * sales.sum()  # the top tenth of the items sell over half
    assert np.mean(preferences(data).count > 1) > 0.2  # many (shopper, item) pairs are bought more than once


def test_staples_are_rebought_more_than_favourite_categories_bring_items_back():
    exploring, rebuying = (purchases(Shop(shoppers=500, items=1000, rebuy=share)) for share in (0.0, 0.6))

    assert np.mean(preferences(rebuying).count > 1) > 1.3 * np.mean(preferences(exploring).count > 1)


def test_a_basket_shares_one_timestamp_and_the_file_reads_back(tmp_path):
    data = purchases(Shop(shoppers=50, basket_size=6))
    path = tmp_path / "purchases.csv"

    write_csv(data, path)

    assert len(np.unique(data.times)) < len(data) / 3  # about six lines per basket
    assert np.array_equal(parse(path.read_text().splitlines()).times, data.times)
