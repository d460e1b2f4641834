"""The served recommender: a blend of ALS, repeat and popularity scores whose weights the data chooses.

Each part is scaled per user to at most 1 (ALS by the user's best ALS score among the items the blend may show,
repeat by the user's most repeated item, popularity by the most popular item), and an item scores
`als x ALS + repeat x repeat + popularity x popularity`. Whether the user's own past items may come back (`rebuy`)
is part of the choice: people rebuy groceries, not films. `choose` tries every blend of `grid()` on a validation part
and keeps the one with the best NDCG; the single recommenders are on the grid, so the blend is never chosen worse than
the best of them on that part. Users with no past get popularity.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from recommendations.metrics import NONE, HeldOut, ndcg
from recommendations.recommenders import Scorer, Signals, batches, top

TIE_BREAK = 1e-6  # equal blend scores (the items a part leaves at 0) go to the more popular item
SHORTLIST = 5  # x k items per part on the shortlist the blends are compared on


@dataclass(frozen=True)
class Blend:
    als: float
    repeat: float
    popularity: float
    rebuy: bool  # the user's past items may be recommended

    def __str__(self) -> str:
        past = "past items allowed" if self.rebuy else "past items left out"
        return f"{self.als:g} x ALS + {self.repeat:g} x repeat + {self.popularity:g} x popularity, {past}"


ALS_ONLY = Blend(1, 0, 0, rebuy=False)
REPEAT_ONLY = Blend(0, 1, 0, rebuy=True)
POPULARITY_ONLY = Blend(0, 0, 1, rebuy=False)


def grid() -> list[Blend]:
    """The single recommenders first (a tie keeps the simpler), then ALS with a little popularity and past items left
    out (films), then every mix with past items allowed (groceries)."""
    new_only = [Blend(1, 0, share, rebuy=False) for share in (0.05, 0.1, 0.2, 0.5, 1)]
    steps = (0, 0.1, 0.25, 0.5, 1)
    mixes = {_scaled(Blend(a, b, c, rebuy=True)) for a, b, c in product(steps, steps, (0, 0.05, 0.1, 0.25, 1))
             if a or b or c}
    singles = [ALS_ONLY, REPEAT_ONLY, POPULARITY_ONLY]
    return singles + new_only + sorted(mixes - set(singles), key=lambda b: (b.als, b.repeat, b.popularity))


def _scaled(blend: Blend) -> Blend:
    """The same ranking with the largest weight 1 (so 0.5/0.5/0 and 1/1/0 count once)."""
    most = max(blend.als, blend.repeat, blend.popularity)
    return Blend(round(blend.als / most, 4), round(blend.repeat / most, 4), round(blend.popularity / most, 4),
                 blend.rebuy)


@dataclass(frozen=True)
class Parts:
    """The scaled parts for a batch of users: ALS twice (scaled among all items, and among the items the user never
    had, those at -inf), repeat (users x catalog) and popularity (catalog)."""

    als_all: np.ndarray
    als_new: np.ndarray
    repeat: np.ndarray
    popularity: np.ndarray
    had: np.ndarray

    @classmethod
    def of(cls, signals: Signals, users: np.ndarray) -> Parts:
        repeat = signals.history.dense(users)
        als = (signals.factors.users[users] @ signals.factors.items.T).astype(np.float32)
        als[~signals.known[users]] = 0  # users ALS never saw: popularity decides
        return cls.scaled(als, repeat, signals.popularity)

    @classmethod
    def scaled(cls, als: np.ndarray, repeat: np.ndarray, popularity: np.ndarray) -> Parts:
        """The parts from raw scores (users x catalog ALS and repeat, catalog popularity): what serving also uses
        for a shopper whose factors it folded in."""
        had = repeat > 0
        als_new = np.where(had, -np.inf, als).astype(np.float32)
        popularity = popularity / max(float(popularity.max(initial=0)), 1e-12)
        return cls(_per_user(als, np.abs(als)), _per_user(als_new, np.abs(np.where(had, 0, als))),
                   _per_user(repeat, repeat), popularity.astype(np.float32), had)


def _per_user(scores: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Scores divided by the user's largest size (left as they are where that is 0)."""
    largest = sizes.max(axis=1, keepdims=True)
    return np.divide(scores, largest, out=scores.copy(), where=largest > 0)


def scores(parts: Parts, blend: Blend) -> np.ndarray:
    blended = np.broadcast_to((blend.popularity + TIE_BREAK) * parts.popularity, parts.repeat.shape).copy()
    # (-inf parts, the shortlist's repeats, stay -inf: the popularity weight is never 0 and the others count only when
    # not 0)
    if blend.repeat:
        blended += blend.repeat * parts.repeat
    if blend.als:
        blended += blend.als * (parts.als_all if blend.rebuy else parts.als_new)
    if not blend.rebuy:
        blended[parts.had] = -np.inf
    return blended


def shortlist(parts: Parts, depth: int) -> tuple[Parts, np.ndarray]:
    """The parts on each user's shortlist only, and the shortlist (users x columns of item indexes): the top `depth`
    items by ALS among all items, by ALS among new items, by repeat and by popularity. A single part's top k is on it
    whole, so the single recommenders rank exactly as on the whole catalog; a mix could want an item that no part
    has near its top, rarely enough to leave out of a comparison of blends. An item on it twice scores -inf the
    second time."""
    depth = min(depth, parts.repeat.shape[1])
    leaders = [np.argpartition(part, -depth, axis=1)[:, -depth:] for part in (parts.als_all, parts.als_new,
                                                                             parts.repeat)]
    popular = np.argpartition(parts.popularity, -depth)[-depth:]
    items = np.sort(np.concatenate([*leaders, np.broadcast_to(popular, leaders[0].shape)], axis=1), axis=1)
    again = np.zeros(items.shape, dtype=bool)
    again[:, 1:] = items[:, 1:] == items[:, :-1]

    def picked(part: np.ndarray) -> np.ndarray:
        values = part[items] if part.ndim == 1 else np.take_along_axis(part, items, axis=1)
        values[again] = -np.inf
        return values

    return Parts(picked(parts.als_all), picked(parts.als_new), picked(parts.repeat), picked(parts.popularity),
                 np.take_along_axis(parts.had, items, axis=1)), items


def served(blend: Blend) -> Scorer:
    """The blend as a scorer for `recommendations.recommenders.recommend`."""
    def score(signals: Signals, users: np.ndarray) -> np.ndarray:
        return scores(Parts.of(signals, users), blend)

    return score


def choose(signals: Signals, held_out: HeldOut, k: int) -> tuple[Blend, dict[Blend, float]]:
    """The blend of the grid with the best NDCG@k on `held_out` (a validation part), and every blend's NDCG."""
    picked = np.arange(len(held_out.users))
    blends, totals = grid(), np.zeros(len(grid()))
    for rows in batches(picked, signals.history.catalog):
        parts, items = shortlist(Parts.of(signals, held_out.users[rows]), SHORTLIST * k)
        for index, blend in enumerate(blends):
            hits = held_out.hits(on_shortlist(items, top(scores(parts, blend), k)), rows)
            totals[index] += ndcg(hits, held_out.relevant[rows], k) * len(rows)
    results = dict(zip(blends, (totals / max(len(picked), 1)).tolist(), strict=True))
    return blends[int(np.argmax(totals))], results



def on_shortlist(items: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The items at shortlist positions (NONE stays NONE)."""
    return np.where(positions == NONE, NONE, np.take_along_axis(items, np.maximum(positions, 0), axis=1))
