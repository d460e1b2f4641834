"""Recommendations as the API serves them, from the current model version in Cassandra.

A shopper's list: if they did something since the model's data ends (ordered, carted, wished: `activity.py`), their
factors are folded in again from their stored history plus those events (`fold_in.py`) and every item is scored by
the model's blend, so their list changes without a retrain; otherwise their stored list; a shopper the model does not
know gets the popular items (of the category). Then, at read time, deleted and out-of-stock items are left out, and
items the shopper already bought unless the model lets past items back and their category is one people rebuy; a
short list is topped up with popular items. Similar items: the item's stored list, else the popular items of its
category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recommendations import build
from recommendations.activity import Interaction, ShopperActivity
from recommendations.blend import Blend, Parts, scores
from recommendations.fold_in import fold_in
from recommendations.kinds import KINDS, KindWeights, you_did
from recommendations.recommenders import top
from recommendations.store import OVERALL, ItemFactors, ModelReader, ModelVersion

OVERFETCH = 3  # candidates looked at per item asked for, before the read-time filters
ITEM_SECONDS = 5.0  # how long a process keeps an item's document (a deleted item leaves the lists within this)


class NotTrainedYet(Exception):
    """No model version has been switched to yet."""


class UnknownItem(Exception):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no item {item_id}")
        self.item_id = item_id


@dataclass(frozen=True)
class Picked:
    version: int
    source: str  # model, folded (recent events taken into account), popular
    items: list[dict]


class Recommender:
    def __init__(self, reader: ModelReader, activity: ShopperActivity, items: Any, stock: Any,
                 weights: KindWeights | None = None) -> None:
        self.reader, self.activity, self.items, self.stock = reader, activity, items, stock
        self.docs = LiveItems(items)
        self.weights = weights or KindWeights()

    async def _version(self) -> ModelVersion:
        version = await self.reader.current()
        if version is None:
            raise NotTrainedYet("recommendations are not trained yet: run `shop recommend train`")
        return version

    async def for_shopper(self, user_id: str, category: str | None, limit: int) -> Picked:
        version = await self._version()
        recent = await self.activity.since(user_id, version.data_until)
        profile = await self.reader.profile(version, user_id)
        history = dict(profile[1]) if profile else {}
        source = "model"
        if recent:
            candidates, source = await self._folded(version, history, recent, category, limit), "folded"
        else:
            candidates = await self.reader.for_user(version, user_id, category or OVERALL) or []
        bought = {item for item, (_, _, kind) in history.items() if kind == "ordered"}
        bought |= {event.item_id for event in recent if event.kind == "ordered"}
        blend = Blend(**version.params["blend"])
        keep_past = version.rebuy_categories if blend.rebuy else frozenset()
        chosen = await self._live(candidates, limit, lambda entry: entry["item_id"] in bought
                                  and entry.get("category") not in keep_past)
        if not candidates:
            source = "popular"
        if len(chosen) < limit:
            taken = {entry["item_id"] for entry in chosen} | bought
            chosen += await self._live(await self.reader.popular(version, category or OVERALL), limit - len(chosen),
                                       lambda entry: entry["item_id"] in taken)
        return Picked(version.version, source, chosen)

    async def similar(self, item_id: str, limit: int) -> Picked:
        item = await self.items.get(item_id)
        if item is None:
            raise UnknownItem(item_id)
        version = await self._version()
        stored = await self.reader.similar(version, item_id)
        source = "model" if stored else "popular"
        candidates = stored or await self.reader.popular(version, item.get("category") or OVERALL)
        chosen = await self._live(candidates, limit, lambda entry: entry["item_id"] == item_id)
        return Picked(version.version, source, chosen)

    async def _folded(self, version: ModelVersion, history: dict[str, list], recent: list[Interaction],
                      category: str | None, limit: int) -> list[dict]:
        """The shopper's list scored afresh: history plus recent events folded into factors, blended as trained."""
        factors = await self.reader.item_factors(version)
        history = {item: list(values) for item, values in history.items()}
        for event in recent:
            strength, count, kind = history.get(event.item_id, [0.0, 0, "searched"])
            stronger = kind if KINDS.index(kind) >= KINDS.index(event.kind) else event.kind
            history[event.item_id] = [strength + getattr(self.weights, event.kind), count + 1, stronger]
        known = [item for item in history if item in factors.index]
        rows = np.array([factors.index[item] for item in known], dtype=np.int64)
        als = version.params["als"]
        strengths = np.log1p(np.array([history[item][0] for item in known], dtype=np.float64))
        user = fold_in(version.gram, factors.matrix[rows], strengths, als["alpha"], als["reg"])
        blend = Blend(**version.params["blend"])
        scored = scores(_parts(factors, user, rows, np.array([history[item][1] for item in known], np.float32)),
                        blend)[0]
        if category:
            scored = np.where(np.array(factors.categories) == category, scored, -np.inf)
        best = [int(i) for i in top(scored[None, :], OVERFETCH * limit)[0] if i >= 0]
        listed = []
        for i in best:
            reason, because = _reason(factors, rows, known, history, i)
            listed.append({**build.entry(factors.item_ids[i], scored[i], factors.categories[i], reason),
                           **({"because": because} if because else {})})
        return listed

    async def _live(self, candidates: list[dict], limit: int, leave_out) -> list[dict]:
        """The first `limit` candidates that are live, in stock and not left out, with what a page shows of them.
        Stock is read for a whole slice at once (one statement); the item documents only for the in-stock ones, in
        order, until `limit` are live."""
        chosen: list[dict] = []
        wanted = [entry for entry in candidates if not leave_out(entry)]
        for start in range(0, len(wanted), OVERFETCH * limit):
            part = wanted[start:start + OVERFETCH * limit]
            available = await self.stock.available([entry["item_id"] for entry in part])
            stocked = [entry for entry in part if available.get(entry["item_id"], 0) > 0]
            while stocked and len(chosen) < limit:
                batch, stocked = stocked[:limit - len(chosen)], stocked[limit - len(chosen):]
                docs = await self.docs.get([entry["item_id"] for entry in batch])
                chosen += [{"item_id": entry["item_id"], "title": doc.get("title"), "price": doc.get("price"),
                            "category": doc.get("category"), "brand": doc.get("brand"), "reason": entry["reason"],
                            "score": entry["score"], "because": entry.get("because")}
                           for entry in batch if (doc := docs.get(entry["item_id"])) is not None]
            if len(chosen) == limit:
                break
        return await self._named(chosen)

    async def _named(self, chosen: list[dict]) -> list[dict]:
        """Reasons that point at another item ("because you bought ...") completed with that item's title."""
        pointed = list({entry["because"] for entry in chosen if entry.get("because")})
        docs = await self.docs.get(pointed) if pointed else {}
        for entry in chosen:
            because = entry.pop("because", None)
            if because:
                title = (docs.get(because) or {}).get("title")
                entry["reason"] = entry["reason"].replace("{}", title or "an item you liked", 1)
        return chosen


class LiveItems:
    """Item documents as the item store gives them (None for deleted or unknown ones), each kept `seconds` in this
    process: the items recommended to many shoppers are read once per interval, not once per request. A deleted item
    leaves the lists within that time; prices shown may be that old (checkout reads the item store itself)."""

    def __init__(self, items: Any, seconds: float = ITEM_SECONDS, size: int = 50_000) -> None:
        from cachetools import TTLCache

        self.items = items
        self.cache: TTLCache = TTLCache(maxsize=size, ttl=seconds)

    async def get(self, ids: list[str]) -> dict[str, dict | None]:
        missing = [item_id for item_id in dict.fromkeys(ids) if item_id not in self.cache]
        if missing:
            found = {doc["item_id"]: doc for doc in await self.items.get_many(missing)}
            for item_id in missing:
                self.cache[item_id] = found.get(item_id)
        return {item_id: self.cache.get(item_id) for item_id in ids}


def _parts(factors: ItemFactors, user: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> Parts:
    """The blend's scaled parts for one shopper (the same scaling as in training, `Parts.of`)."""
    als = (factors.matrix @ user)[None, :].astype(np.float32)
    repeat = np.zeros_like(als)
    repeat[0, rows] = counts
    return Parts.scaled(als, repeat, factors.popularity)


def _reason(factors: ItemFactors, user_rows: np.ndarray, known: list[str], history: dict[str, list], item: int
            ) -> tuple[str, str | None]:
    """The reason, and the item it points at (named by `_named` once its title is read)."""
    item_id = factors.item_ids[item]
    if item_id in history:
        kind = history[item_id][2]
        return ("buy again: you bought it before" if kind == "ordered" else you_did(kind, "it")), None
    if len(user_rows):
        mine = factors.matrix[user_rows]
        closest = known[int(np.argmax(mine @ factors.matrix[item] / (np.linalg.norm(mine, axis=1) + 1e-9)))]
        return "because " + you_did(history[closest][2], "{}"), closest  # "{}": the item's title, once read
    category = factors.categories[item]
    return (f"popular in {category} this week" if category else "popular this week"), None
