"""How good ranked recommendations are against what each user did next (their held-out items), averaged over the
users who have held-out items.

A user's relevant items are their distinct held-out items, R of them; `hit(i)` is 1 when the item at rank i
(1-based) is relevant. Over the top k:

- NDCG@k = DCG / IDCG with DCG = sum over i <= k of hit(i) / log2(i + 1), IDCG = the same sum over min(R, k) hits
- recall@k = (hits in the top k) / R
- MAP@k: the mean over users of AP@k = (sum over i <= k of hit(i) x precision@i) / min(R, k), precision@i being
  (hits in the top i) / i
- coverage = distinct items in anybody's top k / distinct items in the whole file
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NONE = -1  # a slot a recommender left empty (it had fewer items to offer)


@dataclass(frozen=True)
class HeldOut:
    """Each scored user's relevant items, as sorted keys user x catalog size + item."""

    users: np.ndarray  # the users who have held-out items, ascending
    keys: np.ndarray
    relevant: np.ndarray  # R per user of `users`
    catalog: int  # distinct items in the whole file

    @classmethod
    def of(cls, users: np.ndarray, items: np.ndarray, catalog: int) -> HeldOut:
        keys = np.unique(users.astype(np.int64) * catalog + items)
        scored, relevant = np.unique(keys // catalog, return_counts=True)
        return cls(scored.astype(np.int32), keys, relevant, catalog)

    def sample(self, most: int, seed: int = 0) -> HeldOut:
        """At most `most` of the users, drawn at random with `seed`."""
        if len(self.users) <= most:
            return self
        kept = np.sort(np.random.default_rng(seed).choice(len(self.users), most, replace=False))
        keys = self.keys[np.isin(self.keys // self.catalog, self.users[kept])]
        return HeldOut(self.users[kept], keys, self.relevant[kept], self.catalog)

    def hits(self, recommended: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Which slots of the lists (one row per user of `users`, or of `users[rows]`) hold a relevant item."""
        users = self.users if rows is None else self.users[rows]
        keys = users.astype(np.int64)[:, None] * self.catalog + recommended
        return np.isin(keys, self.keys) & (recommended != NONE)


def discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def ndcg(hits: np.ndarray, relevant: np.ndarray, k: int) -> float:
    ideal = np.cumsum(discounts(k))[np.minimum(relevant, k) - 1]
    return float(np.mean((hits[:, :k] * discounts(k)[: hits[:, :k].shape[1]]).sum(axis=1) / ideal))


def recall(hits: np.ndarray, relevant: np.ndarray, k: int) -> float:
    return float(np.mean(hits[:, :k].sum(axis=1) / relevant))


def mean_average_precision(hits: np.ndarray, relevant: np.ndarray, k: int) -> float:
    top = hits[:, :k]
    precision = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    return float(np.mean((precision * top).sum(axis=1) / np.minimum(relevant, k)))


def coverage(recommended: np.ndarray, k: int, catalog: int) -> float:
    shown = np.unique(recommended[:, :k])
    return float(np.count_nonzero(shown != NONE) / catalog)


def scores(recommended: np.ndarray, held_out: HeldOut, k: int) -> dict[str, float]:
    """The report's figures for lists of at least 2k slots per user: NDCG@k, recall@k, recall@2k, MAP@k, coverage."""
    hits = held_out.hits(recommended)
    return {f"ndcg@{k}": ndcg(hits, held_out.relevant, k), f"recall@{k}": recall(hits, held_out.relevant, k),
            f"recall@{2 * k}": recall(hits, held_out.relevant, 2 * k),
            f"map@{k}": mean_average_precision(hits, held_out.relevant, k),
            "coverage": coverage(recommended, k, held_out.catalog)}
