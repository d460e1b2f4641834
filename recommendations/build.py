"""What a training run stores, computed from the interactions, the ALS factors and the chosen blend (pure numpy):

- per shopper, the top `TOP_N` items overall and the top `CATEGORY_N` of each category, scored by the served blend
  (`blend.py`), each with a reason a person can read;
- per shopper, their factors and the items they had (summed weight, times, the strongest kind), for folding newer
  events in at serving time (`fold_in.py`);
- per item, the `SIMILAR_N` most similar items: cosine of the item factors, or, for an item too few shoppers had for
  its factors to say much ("weak"), the items bought together with it in the same orders;
- popular items overall and per category, decayed with a one-week half-life ("popular this week");
- the categories people rebuy in (a category where a shopper's item comes back at least `REBUY_SHARE` of the time):
  already-bought items are shown again only in those;
- the Gram matrix of the item factors, for folding in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from recommendations.blend import Blend, served
from recommendations.interactions import Interactions, decayed, preferences
from recommendations.kinds import KINDS, you_did
from recommendations.recommenders import Signals, batches, top

TOP_N = 50
CATEGORY_N = 20
SIMILAR_N = 20
POPULAR_N = 100
WEAK_SHOPPERS = 3  # an item fewer shoppers had gets its similar items from baskets, when it has any
REBUY_SHARE = 0.1
POPULAR_HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True)
class Catalog:
    """What training knows of the items: category and title by item index (of the interactions)."""

    categories: np.ndarray  # str per item index ("" when unknown)
    titles: list[str]

    def title(self, item: int) -> str:
        return self.titles[item] or "an item"


def entry(item_id: str, score: float, category: str, reason: str) -> dict:
    return {"item_id": item_id, "score": round(float(score), 6), "category": category, "reason": reason}


def rebuy_categories(interactions: Interactions, kinds: np.ndarray, catalog: Catalog) -> frozenset[str]:
    """Categories in which, of the (shopper, item) pairs ordered, at least REBUY_SHARE were ordered more than once."""
    ordered = interactions.where(kinds == KINDS.index("ordered"))
    if not len(ordered):
        return frozenset()
    had = preferences(ordered)
    categories = catalog.categories[had.items]
    found = set()
    for category in np.unique(categories):
        mine = categories == category
        if (had.count[mine] > 1).mean() >= REBUY_SHARE:
            found.add(str(category))
    return frozenset(found)


def popular(interactions: Interactions, catalog: Catalog) -> list[tuple[str, list[dict]]]:
    """(category, items) overall ("") and per category, by decayed interactions."""
    score = np.bincount(interactions.items, weights=decayed(interactions, POPULAR_HALF_LIFE_DAYS),
                        minlength=len(interactions.item_ids))
    lists = []
    for category in ["", *sorted(set(catalog.categories.tolist()) - {""})]:
        mine = np.flatnonzero((score > 0) & ((catalog.categories == category) if category else True))
        best = mine[np.argsort(-score[mine], kind="stable")][:POPULAR_N]
        reason = f"popular in {category} this week" if category else "popular this week"
        lists.append((category, [entry(interactions.item_ids[i], score[i], str(catalog.categories[i]),
                                       f"popular in {catalog.categories[i]} this week" if not category and
                                       catalog.categories[i] else reason) for i in best]))
    return lists


def for_users(interactions: Interactions, kinds: np.ndarray, signals: Signals, blend: Blend, catalog: Catalog
              ) -> Iterator[tuple[str, str, list[dict]]]:
    """(user_id, category, items) of every shopper with interactions: overall ("") and per category they could be
    shown something of."""
    strongest = _strongest_kind(interactions, kinds)
    scorer = served(blend)
    users = np.flatnonzero(signals.known)
    categories = sorted(set(catalog.categories.tolist()))
    columns = {category: np.flatnonzero(catalog.categories == category) for category in categories}
    unit = _unit(signals.factors.items)
    for batch in batches(users, len(interactions.item_ids)):
        scores = scorer(signals, batch)
        overall = top(scores, TOP_N)
        for row, user in enumerate(batch.tolist()):
            explain = _Reasons(signals, strongest, catalog, unit, user)
            yield (interactions.user_ids[user], "",
                   [entry(interactions.item_ids[i], scores[row, i], str(catalog.categories[i]), explain(i))
                    for i in overall[row] if i >= 0])
        for category in categories:
            if not category:
                continue
            cols = columns[category]
            best = top(scores[:, cols], CATEGORY_N)
            for row, user in enumerate(batch.tolist()):
                picked = [cols[i] for i in best[row] if i >= 0]
                if picked:
                    explain = _Reasons(signals, strongest, catalog, unit, user)
                    yield (interactions.user_ids[user], category,
                           [entry(interactions.item_ids[i], scores[row, i], category, explain(i)) for i in picked])


def profiles(interactions: Interactions, kinds: np.ndarray, signals: Signals
             ) -> Iterator[tuple[str, np.ndarray, dict[str, list]]]:
    """(user_id, factors, {item_id: [summed weight, times had, strongest kind]}) of every shopper."""
    had = preferences(interactions)
    strongest = _strongest_kind(interactions, kinds)
    starts = np.concatenate(([0], np.cumsum(np.bincount(had.users, minlength=len(interactions.user_ids)))))
    for user in np.flatnonzero(signals.known).tolist():
        rows = range(starts[user], starts[user + 1])
        history = {interactions.item_ids[had.items[r]]: [round(float(had.strength[r]), 6), int(had.count[r]),
                                                         KINDS[strongest[(user, int(had.items[r]))]]] for r in rows}
        yield interactions.user_ids[user], signals.factors.users[user], history


def similar(interactions: Interactions, kinds: np.ndarray, orders: np.ndarray | None, signals: Signals,
            catalog: Catalog) -> Iterator[tuple[str, list[dict]]]:
    """(item_id, similar items) of every item: by factors, or from baskets for weak items. `orders` gives each
    interaction's order index (-1 when it is not an order line)."""
    items = signals.factors.items
    unit = _unit(items)
    shoppers = np.bincount(preferences(interactions).items, minlength=len(interactions.item_ids))
    together = _bought_together(interactions, orders)
    trained = np.flatnonzero(np.abs(items).sum(axis=1) > 0)
    for batch in batches(np.arange(len(interactions.item_ids)), len(interactions.item_ids)):
        cosine = unit[batch] @ unit.T
        cosine[np.arange(len(batch)), batch] = -np.inf
        mask = np.full(len(interactions.item_ids), True)
        mask[trained] = False
        cosine[:, mask] = -np.inf
        best = top(cosine, SIMILAR_N)
        for row, item in enumerate(batch.tolist()):
            name = catalog.title(item)
            if shoppers[item] < WEAK_SHOPPERS and together.get(item):
                ranked = sorted(together[item].items(), key=lambda pair: (-pair[1], pair[0]))[:SIMILAR_N]
                yield interactions.item_ids[item], [
                    entry(interactions.item_ids[other], count, str(catalog.categories[other]),
                          f"often bought together with {name}") for other, count in ranked]
            elif item in trained:
                yield interactions.item_ids[item], [
                    entry(interactions.item_ids[other], cosine[row, other], str(catalog.categories[other]),
                          f"liked by the same shoppers as {name}") for other in best[row] if other >= 0
                    and cosine[row, other] > 0]


def gram(signals: Signals) -> np.ndarray:
    items = signals.factors.items.astype(np.float64)
    return (items.T @ items).astype(np.float32)


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _strongest_kind(interactions: Interactions, kinds: np.ndarray) -> dict[tuple[int, int], int]:
    strongest: dict[tuple[int, int], int] = {}
    for user, item, kind in zip(interactions.users.tolist(), interactions.items.tolist(), kinds.tolist(), strict=True):
        if strongest.get((user, item), -1) < kind:
            strongest[user, item] = kind
    return strongest


def _bought_together(interactions: Interactions, orders: np.ndarray | None) -> dict[int, dict[str, int] | dict]:
    if orders is None:
        return {}
    lines = orders >= 0
    by_order: dict[int, set[int]] = {}
    for order, item in zip(orders[lines].tolist(), interactions.items[lines].tolist(), strict=True):
        by_order.setdefault(order, set()).add(item)
    together: dict[int, dict] = {}
    for basket in by_order.values():
        for item in basket:
            counts = together.setdefault(item, {})
            for other in basket - {item}:
                counts[other] = counts.get(other, 0) + 1
    return together


class _Reasons:
    """Why an item is in a shopper's list: they had it (buy again), it is like something they had, or it is
    popular."""

    def __init__(self, signals: Signals, strongest: dict[tuple[int, int], int], catalog: Catalog, unit: np.ndarray,
                 user: int) -> None:
        self.catalog, self.unit, self.strongest, self.user = catalog, unit, strongest, user
        history = signals.history
        self.had = history.items[history.starts[user]:history.starts[user + 1]]

    def __call__(self, item: int) -> str:
        kind = self.strongest.get((self.user, item))
        if kind is not None:
            return f"buy again: {you_did(KINDS[kind], 'it')} before" if KINDS[kind] == "ordered" else \
                you_did(KINDS[kind], "it")
        if len(self.had) and self.unit[item].any():
            closest = int(self.had[np.argmax(self.unit[self.had] @ self.unit[item])])
            return "because " + you_did(KINDS[self.strongest[self.user, closest]], self.catalog.title(closest))
        category = self.catalog.categories[item]
        return f"popular in {category} this week" if category else "popular this week"
