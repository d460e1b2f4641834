"""Elasticsearch adapter of the item index, always through its alias.

While a rebuild runs, a second alias (`<alias>-reindexing`) names the new index and every write goes to both.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from inbound.events import ItemRecord
from inventory.events import StockChanged
from search import service
from search.query import SearchParams, attribute_names_search, build_search, read_page

# A conflict left after retry_on_conflict, a full write queue, or a rebuild alias gone since the batch began
# (the batch is sent again to the aliases as they are then).
RETRYABLE_STATUSES = {404, 409, 429}


# Each shard keeps a search's answer until the index next changes (a refresh that brings changes), so a search many
# shoppers send within that time costs Elasticsearch once. Without asking, it keeps only answers of size 0.
SEARCH_OPTIONS = {"request_cache": True}

class IndexUnavailable(Exception):
    """Elasticsearch could not take the writes now; the same batch is sent again later."""


class SearchIndex:
    def __init__(self, es, alias: str) -> None:
        self.es, self.alias = es, alias
        self.rebuilding_alias = f"{alias}-reindexing"

    async def apply_records(self, records: list[ItemRecord]) -> dict[int, str]:
        """Applies feed records in one bulk request, each item's in version order; returns {position: reason} of the
        records the index refused. What no store can keep never gets here: the record contract (`ItemRecord`) refuses
        it when the record is parsed."""
        now = _now()
        order = service.in_version_order(records)
        changes = [(records[p].item_id, service.record_change(records[p], now)) for p in order]
        refused = await self._update(service.APPLY_RECORD, changes)
        return {order[change]: reason for change, reason in refused.items()}

    async def apply_stock(self, events: list[StockChanged]) -> dict[int, str]:
        now = _now()
        return await self._update(service.APPLY_STOCK, [(e.item_id, service.stock_change(e, now)) for e in events])

    async def apply_stored_items(self, items: list[dict], index: str) -> dict[int, str]:
        now = _now()
        changes = [(item["_id"], service.stored_item_change(item, now)) for item in items]
        return await self._update(service.APPLY_RECORD, changes, targets=[index])

    async def copy_documents(self, documents: list[dict], index: str) -> dict[int, str]:
        now = _now()
        changes = [(doc["item_id"], {"doc": doc, "now": now}) for doc in documents]
        return await self._update(service.COPY_DOCUMENT, changes, targets=[index])

    async def search(self, params: SearchParams, deliverable: dict | None) -> dict[str, Any]:
        names = list(params.facet_names)
        if not names and params.categories:
            names = await self._common_attribute_names(params, deliverable)
        response = await self._search(self.alias, build_search(params, deliverable, names))
        return read_page(response, params, deliverable, names)

    async def document(self, item_id: str) -> dict | None:
        """The stored document as it is now (tombstones included), without waiting for a refresh."""
        response = await self.es.get(index=self.alias, id=item_id, ignore=404)
        return response["_source"] if response.get("found") else None

    async def refresh(self) -> None:
        await self.es.indices.refresh(index=self.alias)

    async def live_index(self) -> str | None:
        if not await self.es.indices.exists_alias(name=self.alias):
            return None
        return next(iter(await self.es.indices.get_alias(name=self.alias)))

    def next_index(self, live: str | None) -> str:
        found = re.search(r"-v(\d+)$", live or "")
        return f"{self.alias}-v{int(found.group(1)) + 1 if found else 1}"

    async def begin_rebuild(self, index: str, body: dict) -> None:
        await self.es.indices.create(index=index, **body)
        marker = {"add": {"index": index, "alias": self.rebuilding_alias}}
        await self.es.indices.update_aliases(body={"actions": [marker]})

    async def changed_documents(self, index: str, since: str) -> AsyncIterator[dict]:
        """Documents the old index changed since `since`, and every stock picture inventory gave it."""
        changed, stock = {"range": {"indexed_at": {"gte": since}}}, {"exists": {"field": "stock_version"}}
        query = {"bool": {"should": [changed, stock]}}
        body: dict[str, Any] = {"query": query, "sort": [{"item_id": "asc"}], "size": 1000}
        while hits := (await self._search(index, body))["hits"]["hits"]:
            for hit in hits:
                yield hit["_source"]
            body["search_after"] = hits[-1]["sort"]

    async def finish_rebuild(self, old: str | None, new: str) -> None:
        """One atomic alias change: readers and writers move to the new index together, then the old one goes."""
        actions = [{"add": {"index": new, "alias": self.alias}},
                   {"remove": {"index": new, "alias": self.rebuilding_alias}}]
        if old:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        await self.es.indices.update_aliases(body={"actions": actions})
        if old:
            await self.es.indices.delete(index=old)

    async def abandon_rebuild(self, index: str) -> None:
        await self.es.indices.delete(index=index, ignore_unavailable=True)

    async def _update(self, script: str, changes: list[tuple[str, dict]], targets: list[str] | None = None
                      ) -> dict[int, str]:
        if not changes:
            return {}
        # Aliases must exist: writing to a rebuild alias that was just removed must not create an index by that name.
        on_aliases = targets is None
        targets = targets or await self._write_targets()
        operations: list[dict] = []
        for target in targets:
            for item_id, params in changes:
                action = {"_index": target, "_id": item_id, "retry_on_conflict": 5, "require_alias": on_aliases}
                operations += [{"update": action},
                               {"script": {"source": script, "lang": "painless", "params": params},
                                "scripted_upsert": True, "upsert": {}}]
        response = await self.es.bulk(body=operations)
        return _refusals(response, len(changes)) if response["errors"] else {}

    async def _search(self, index: str, body: dict) -> dict:
        keywords = {("from_" if key == "from" else key): value for key, value in body.items()}
        return await self.es.search(index=index, **keywords, **SEARCH_OPTIONS)

    async def _write_targets(self) -> list[str]:
        rebuilding = await self.es.indices.exists_alias(name=self.rebuilding_alias)
        return [self.alias, self.rebuilding_alias] if rebuilding else [self.alias]

    async def _common_attribute_names(self, params: SearchParams, deliverable: dict | None) -> list[str]:
        response = await self._search(self.alias, attribute_names_search(params, deliverable))
        return [bucket["key"] for bucket in response["aggregations"]["names"]["buckets"]]


def _refusals(response: dict, per_target: int) -> dict[int, str]:
    refused: dict[int, str] = {}
    for position, item in enumerate(response["items"]):
        outcome = item["update"]
        status = outcome["status"]
        if status in RETRYABLE_STATUSES or status >= 500:
            raise IndexUnavailable(f"elasticsearch answered {status}: {outcome.get('error')}")
        if status >= 400:
            error = outcome.get("error") or {}
            cause = error.get("caused_by") or {}
            while cause.get("caused_by"):  # a script that refuses a record says why in the innermost cause
                cause = cause["caused_by"]
            reason = f"{error.get('type')}: {error.get('reason')} {cause.get('reason') or ''}"
            refused[position % per_target] = reason.strip()
    return refused


def _now() -> str:
    return datetime.now(UTC).isoformat()
