"""Purchase-like interactions made up with a seeded generator, for tests and benchmarks: a few items sell far more than
the rest (Zipf-like), each shopper favours a few categories and keeps rebuying some staples, and the lines of one
basket share its timestamp."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommendations.interactions import DAY, Interactions

START = 1_704_067_200  # 2024-01-01T00:00:00Z


@dataclass(frozen=True)
class Shop:
    shoppers: int = 2000
    items: int = 3000
    categories: int = 40
    baskets: float = 8.0  # per shopper on average, long-tailed (many shop once, a few every week)
    basket_size: float = 4.0  # lines per basket on average
    rebuy: float = 0.5  # the average shopper's share of lines that are one of their staples
    staples: float = 6.0  # items a shopper keeps rebuying, on average
    taste: float = 0.1  # how concentrated shoppers are on few categories: smaller is more
    zipf: float = 1.0  # item popularity falls as 1 / rank ** zipf
    days: float = 365.0
    seed: int = 0


def purchases(shop: Shop) -> Interactions:
    """About shoppers x baskets x basket_size interactions; weights are quantities (mostly 1)."""
    rng = np.random.default_rng(shop.seed)
    basket_counts = rng.geometric(1 / shop.baskets, size=shop.shoppers)
    basket_shopper = np.repeat(np.arange(shop.shoppers), basket_counts)
    basket_times = START + np.floor(rng.uniform(0, shop.days * DAY, size=len(basket_shopper)))
    lines = 1 + rng.poisson(shop.basket_size - 1, size=len(basket_shopper))
    shoppers, times = np.repeat(basket_shopper, lines), np.repeat(basket_times, lines)

    catalog = Catalog.of(shop, rng)
    tastes = _segments(rng.dirichlet(np.full(shop.categories, shop.taste), size=shop.shoppers))
    most_staples = int(3 * shop.staples) + 1
    staples = catalog.draw(rng, _draw(rng, tastes, np.repeat(np.arange(shop.shoppers), most_staples)))
    staples = staples.reshape(shop.shoppers, most_staples)
    staple_counts = np.minimum(1 + rng.poisson(max(shop.staples - 1, 0), size=shop.shoppers), most_staples)
    rebuy_share = (rng.beta(4 * shop.rebuy, 4 * (1 - shop.rebuy), size=shop.shoppers) if 0 < shop.rebuy < 1
                   else np.full(shop.shoppers, float(shop.rebuy)))

    rebuys = rng.random(len(shoppers)) < rebuy_share[shoppers]
    slot = np.floor(rng.random(len(shoppers)) * staple_counts[shoppers]).astype(np.int64)
    items = np.where(rebuys, staples[shoppers, slot], catalog.draw(rng, _draw(rng, tastes, shoppers)))
    quantities = 1 + rng.poisson(0.3, size=len(shoppers))
    return _interactions(shoppers, items, times, quantities.astype(np.float64))


@dataclass(frozen=True)
class Catalog:
    """Items by category with their popularity, ready to draw from: `cumulative` holds, category after category,
    c + the running share of category c's popularity, so c + u (u uniform in [0, 1)) falls on one of its items."""

    by_category: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def of(cls, shop: Shop, rng: np.random.Generator) -> Catalog:
        category = rng.integers(shop.categories, size=shop.items)
        popularity = 1.0 / (rng.permutation(shop.items) + 1.0) ** shop.zipf
        order = np.argsort(category, kind="stable")
        matrix = np.zeros((shop.categories, shop.items))
        matrix[category[order], np.arange(shop.items)] = popularity[order]
        return cls(order, _segments(matrix)[category[order], np.arange(shop.items)])

    def draw(self, rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
        found = np.searchsorted(self.cumulative, categories + rng.random(len(categories)), side="right")
        return self.by_category[np.minimum(found, len(self.by_category) - 1)]


def _segments(weights: np.ndarray) -> np.ndarray:
    """Row r's running share of its weights, plus r: every row's values lie in (r, r + 1]."""
    totals = weights.sum(axis=1, keepdims=True)
    shares = np.cumsum(weights, axis=1) / np.where(totals > 0, totals, 1)
    return shares + np.arange(len(weights))[:, None]


def _draw(rng: np.random.Generator, tastes: np.ndarray, shoppers: np.ndarray) -> np.ndarray:
    """A category for each of `shoppers`, drawn from their tastes."""
    flat = tastes.ravel()
    found = np.searchsorted(flat, shoppers + rng.random(len(shoppers)), side="right")
    return found - shoppers * tastes.shape[1]


def _interactions(shoppers: np.ndarray, items: np.ndarray, times: np.ndarray, weights: np.ndarray) -> Interactions:
    shopper_index, shopper_codes = np.unique(shoppers, return_inverse=True)
    item_index, item_codes = np.unique(items, return_inverse=True)
    return Interactions(tuple(f"u{s}" for s in shopper_index.tolist()), tuple(f"i{i}" for i in item_index.tolist()),
                        shopper_codes.astype(np.int32), item_codes.astype(np.int32), times.astype(np.float64), weights)
