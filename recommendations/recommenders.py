"""The single recommenders, scored in numpy from what the training interactions taught: `popularity` (what most people
took), `repeat` (what this user took most, "buy again") and `als` (the user's and items' factors). A scorer gives a
batch of users a score for every item, -inf for items it will not recommend; `recommend` turns scores into top-n
lists, a batch of users at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recommendations.interactions import Interactions, decayed, preferences
from recommendations.metrics import NONE

BATCH_CELLS = 1 << 23  # users x items scored at once: 32 MB of float32


@dataclass(frozen=True)
class Factors:
    """ALS's latent factors, one row per user index and per item index; users and items it never saw get zeros."""

    users: np.ndarray
    items: np.ndarray


@dataclass(frozen=True)
class History:
    """Each user's past items (from `starts[u]` to `starts[u + 1]`) with their repeat score: how many times the user
    had the item, plus a fraction below one that grows with how recently, so that equal counts go to the most recent."""

    starts: np.ndarray
    items: np.ndarray
    repeat: np.ndarray
    catalog: int

    @classmethod
    def of(cls, interactions: Interactions) -> History:
        had = preferences(interactions)
        span = np.ptp(interactions.times) if len(interactions) else 0.0
        recency = (had.last - (interactions.times.min() if len(interactions) else 0.0)) / (span + 1.0)
        counts = np.bincount(had.users, minlength=len(interactions.user_ids))
        return cls(np.concatenate(([0], np.cumsum(counts))), had.items, had.count + recency,
                   len(interactions.item_ids))

    def dense(self, users: np.ndarray) -> np.ndarray:
        """The repeat scores of `users` as a (users x catalog) matrix, 0 for items they never had."""
        lengths = self.starts[users + 1] - self.starts[users]
        rows = np.repeat(np.arange(len(users)), lengths)
        firsts = np.repeat(self.starts[users] - (np.cumsum(lengths) - lengths), lengths)
        picked = firsts + np.arange(lengths.sum())
        matrix = np.zeros((len(users), self.catalog), dtype=np.float32)
        matrix[rows, self.items[picked]] = self.repeat[picked]
        return matrix


@dataclass(frozen=True)
class Signals:
    """All the recommenders know: the training part's histories, item popularity (its interactions' weights summed,
    decayed with a half-life when one is given) and the ALS factors, plus which users had any training interaction."""

    history: History
    popularity: np.ndarray
    factors: Factors
    known: np.ndarray

    @classmethod
    def of(cls, train: Interactions, factors: Factors, half_life_days: float | None = None) -> Signals:
        popularity = np.bincount(train.items, weights=decayed(train, half_life_days),
                                 minlength=len(train.item_ids))
        known = np.bincount(train.users, minlength=len(train.user_ids)) > 0
        return cls(History.of(train), popularity, factors, known)


Scorer = Callable[[Signals, np.ndarray], np.ndarray]


def popularity(signals: Signals, users: np.ndarray) -> np.ndarray:
    """The most interacted items, leaving out what the user already had: it is the yardstick for ALS, which leaves
    them out too; offering the user's own items again is the `repeat` recommender's job."""
    scores = np.tile(signals.popularity.astype(np.float32), (len(users), 1))
    scores[signals.history.dense(users) > 0] = -np.inf
    return scores


def repeat(signals: Signals, users: np.ndarray) -> np.ndarray:
    """The user's own items, most often had first (ties: most recent first); nothing else."""
    scores = signals.history.dense(users)
    scores[scores == 0] = -np.inf
    return scores


def als(signals: Signals, users: np.ndarray) -> np.ndarray:
    """The factors' dot products, leaving out what the user already had (the usual way to score ALS). A user ALS never
    saw has no factors: they get popularity, as any served ALS answers a newcomer."""
    scores = (signals.factors.users[users] @ signals.factors.items.T).astype(np.float32)
    scores[signals.history.dense(users) > 0] = -np.inf
    newcomers = ~signals.known[users]
    scores[newcomers] = np.broadcast_to(signals.popularity.astype(np.float32), (int(newcomers.sum()), scores.shape[1]))
    return scores


def top(scores: np.ndarray, n: int) -> np.ndarray:
    """The n best items per row, best first; NONE for slots past the items scored above -inf."""
    width = min(n, scores.shape[1])
    best = np.argpartition(scores, -width, axis=1)[:, -width:]
    values = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    best, values = np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)
    best[values == -np.inf] = NONE
    return np.pad(best, ((0, 0), (0, n - width)), constant_values=NONE)


def batches(users: np.ndarray, catalog: int) -> list[np.ndarray]:
    size = max(1, BATCH_CELLS // max(catalog, 1))
    return [users[start:start + size] for start in range(0, len(users), size)]


def recommend(scorer: Scorer, signals: Signals, users: np.ndarray, n: int) -> np.ndarray:
    """Top-n lists for `users`, one row each."""
    lists = [top(scorer(signals, batch), n) for batch in batches(users, signals.history.catalog)]
    return np.concatenate(lists) if lists else np.empty((0, n), dtype=np.int64)
