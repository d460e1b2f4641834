"""The item index on the real Elasticsearch: version guards enforced by the index itself, stock, and the rebuild."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from app.bootstrap import add_attribute_pairs
from inventory.events import StockChanged
from search import commands
from search.query import MOST_WORDS, SearchParams, build_search
from search.store import SearchIndex
from tests.search.conftest import ITEMS_BODY, item_id, record, stored

pytestmark = pytest.mark.stack


async def titles(search_index, category: str, **params) -> list[str]:
    page = await search_index.search(SearchParams(categories=[category], **params), None)
    return [item["title"] for item in page["items"]]


async def test_newer_version_replaces_the_item_and_a_stale_one_is_ignored(search_index, catalog, unique_name):
    item = record(version=2, category=unique_name, title="Linen shirt")
    await catalog(item)

    await catalog(record(item.item_id, version=3, category=unique_name, title="Linen shirt v3"),
                  record(item.item_id, version=1, category=unique_name, title="Ancient shirt"))

    assert await titles(search_index, unique_name) == ["Linen shirt v3"]
    assert (await search_index.document(item.item_id))["version"] == 3


async def test_replaying_a_batch_changes_nothing(search_index, catalog, unique_name):
    batch = [record(category=unique_name, title=f"Shirt {n}", version=5) for n in range(3)]
    await catalog(*batch)
    before = [await search_index.document(r.item_id) for r in batch]

    await catalog(*batch)

    assert [await search_index.document(r.item_id) for r in batch] == before


async def test_delete_hides_the_item_and_an_older_upsert_cannot_bring_it_back(search_index, catalog, unique_name):
    item = record(version=1, category=unique_name)
    await catalog(item)

    await catalog(record(item.item_id, op="delete", version=2), record(item.item_id, version=1, category=unique_name))

    assert await titles(search_index, unique_name, in_stock=False) == []
    assert (await search_index.document(item.item_id))["deleted"] is True


async def test_delete_of_an_unknown_item_leaves_a_tombstone(search_index, catalog, unique_name):
    unknown = record().item_id

    await catalog(record(unknown, op="delete", version=4), record(unknown, version=3, category=unique_name))

    assert await titles(search_index, unique_name, in_stock=False) == []


async def test_patch_merges_fields_and_attributes_key_by_key(search_index, catalog, unique_name):
    item = record(version=1, category=unique_name, brand="Acme", attributes={"color": "red", "fit": "slim"})
    await catalog(item)

    await catalog(record(item.item_id, op="patch", version=2, title="Renamed", attributes={"color": "blue"}))

    document = await search_index.document(item.item_id)
    assert document["title"] == "Renamed" and document["brand"] == "Acme"
    assert document["attributes"] == {"color": "blue", "fit": "slim"}


async def test_patch_of_an_unknown_item_is_ignored(search_index, catalog):
    unknown = record().item_id

    await catalog(record(unknown, op="patch", version=9, title="Orphan"))

    assert await search_index.document(unknown) is None


def stock(item_id: str, version: int, available: int) -> StockChanged:
    return StockChanged(item_id=item_id, version=version, in_stock=available > 0,
                        warehouses=[{"warehouse_id": "W1", "available": available}])


async def test_sold_out_hides_the_item_and_a_stale_restock_does_not_show_it(search_index, catalog, unique_name):
    [item] = await catalog(record(category=unique_name))

    await search_index.apply_stock([stock(item.item_id, 2, available=0), stock(item.item_id, 1, available=9)])
    await search_index.refresh()

    assert await titles(search_index, unique_name) == []
    assert (await search_index.document(item.item_id))["stock_version"] == 2


async def test_restock_shows_the_item_again(search_index, catalog, unique_name):
    [item] = await catalog(record(category=unique_name))
    await search_index.apply_stock([stock(item.item_id, 1, available=0)])

    await search_index.apply_stock([stock(item.item_id, 2, available=1)])
    await search_index.refresh()

    assert await titles(search_index, unique_name) == ["Plain cotton shirt"]


async def test_stock_change_before_the_item_is_known_is_kept_but_not_shown(search_index, catalog, unique_name):
    unknown = record().item_id
    await search_index.apply_stock([stock(unknown, 1, available=0)])

    await catalog(record(unknown, category=unique_name, stock=None))

    assert await titles(search_index, unique_name, in_stock=False) == ["Plain cotton shirt"]
    assert (await search_index.document(unknown))["in_stock"] is False


async def test_record_the_index_cannot_take_is_refused_with_its_reason(search_index):
    bad = record().model_copy(update={"received_at": "not a time"})

    refused = await search_index.apply_records([record(), bad])

    assert list(refused) == [1]
    assert "updated_at" in refused[1] or "date" in refused[1]


async def test_rebuild_loads_the_stored_items_and_moves_the_alias(own_index, stored_items, es):
    await stored_items(stored("a", 1, title="Kept mug"), stored("b", 2, deleted=True))

    rebuild = await commands.reindex(own_index, stored_items.db, ITEMS_BODY, batch_size=1)

    assert rebuild.loaded == 2
    assert await own_index.live_index() == own_index.alias + "-v2"
    assert not await es.indices.exists(index=own_index.alias + "-v1")
    await own_index.refresh()
    assert [i["title"] for i in (await own_index.search(SearchParams(), None))["items"]] == ["Kept mug"]


async def test_searches_read_the_old_index_until_the_swap(own_index, stored_items):
    await own_index.apply_records([record("c" * 32, title="Old mug")])
    await stored_items(stored("d", 1, title="New mug"))

    rebuild = await commands.begin(own_index, ITEMS_BODY)
    await commands.load_stored_items(own_index, rebuild, stored_items.db["items"], batch_size=10)
    await own_index.refresh()

    assert [i["title"] for i in (await own_index.search(SearchParams(), None))["items"]] == ["Old mug"]
    await commands.finish(own_index, rebuild)
    await own_index.refresh()
    assert {i["title"] for i in (await own_index.search(SearchParams(), None))["items"]} == {"Old mug", "New mug"}


async def test_writes_during_the_rebuild_are_kept_and_stale_stored_data_does_not_win(own_index, stored_items):
    await stored_items(stored("e", 1, title="Stored title"))
    rebuild = await commands.begin(own_index, ITEMS_BODY)

    await own_index.apply_records([record(item_id("e"), version=5, title="Newer title"),
                                   record(item_id("f"), title="Brand new")])
    await commands.load_stored_items(own_index, rebuild, stored_items.db["items"], batch_size=10)
    await commands.finish(own_index, rebuild)

    await own_index.refresh()
    titles_now = {i["title"] for i in (await own_index.search(SearchParams(), None))["items"]}
    assert titles_now == {"Newer title", "Brand new"}


async def test_a_first_stock_event_repeating_the_feed_stock_leaves_the_document_as_it_is(search_index, catalog,
                                                                                         unique_name):
    [item] = await catalog(record(category=unique_name))  # in stock in W1
    before = await search_index.es.get(index=search_index.alias, id=item.item_id)

    await search_index.apply_stock([stock(item.item_id, 1, available=3)])
    unchanged = await search_index.es.get(index=search_index.alias, id=item.item_id)
    await search_index.apply_stock([stock(item.item_id, 2, available=0), stock(item.item_id, 1, available=3)])

    assert unchanged["_version"] == before["_version"]
    document = await search_index.document(item.item_id)
    assert document["in_stock"] is False and document["stock_version"] == 2


@pytest.mark.parametrize("q", ["camra", "camera bga"])
async def test_one_typo_tolerant_clause_ranks_short_queries_as_the_all_and_most_words_pair_does(own_index, q):
    titles = ["Canon camera", "Camera bag", "Kamera strap", "Camera lens cap", "Leather bag", "Cameo brooch"]
    records = [record(title=title, description=f"{title} for travel") for title in titles]
    refused = await own_index.apply_records(records)
    assert not refused
    await own_index.refresh()
    body = build_search(SearchParams(q=q), None, [])
    clauses = body["query"]["bool"]["must"][0]["bool"]["should"]
    merged = next(c for c in clauses if c.get("multi_match", {}).get("boost") == 1.5)
    pair = [{"multi_match": {**merged["multi_match"], "boost": 1}},
            {"multi_match": {**merged["multi_match"], "operator": "or", "minimum_should_match": MOST_WORDS,
                             "boost": 0.5}}]
    spelled_out = copy.deepcopy(body)
    spelled_out["query"]["bool"]["must"][0]["bool"]["should"] = [c for c in clauses if c is not merged] + pair

    ranked = [await own_index.es.search(index=own_index.alias, body=b) for b in (body, spelled_out)]

    scores = [[(hit["_id"], hit["_score"]) for hit in answer["hits"]["hits"]] for answer in ranked]
    assert scores[0] == scores[1]
    assert scores[0]  # the typos were forgiven: there was something to rank


def mapped_fields(mapping: dict) -> int:
    """How many fields a mapping holds, as Elasticsearch counts them against its total field limit."""
    count = 0
    for field in mapping.get("properties", {}).values():
        count += 1 + mapped_fields(field) + len(field.get("fields", {}))
    return count


async def index_mapping(es, alias: str) -> dict:
    return next(iter((await es.indices.get_mapping(index=alias)).values()))["mappings"]


async def test_attribute_names_beyond_the_field_limit_stay_searchable(own_index, es):
    crowded = [record(attributes={f"name_{r}_{a}": "x" for a in range(100)}) for r in range(60)]
    assert not await own_index.apply_records(crowded)  # 6,000 attribute names: beyond the 1,000 fields of an index

    late = record(title="Late arrival", attributes={"brand_new_name": "yes"})
    refused = await own_index.apply_records([late])
    await own_index.refresh()

    assert not refused
    params = SearchParams(attributes={"brand_new_name": ["yes"]}, facet_names=["brand_new_name"])
    page = await own_index.search(params, None)
    assert [item["item_id"] for item in page["items"]] == [late.item_id]
    assert page["facets"]["attr.brand_new_name"] == [{"value": "yes", "count": 1}]
    assert mapped_fields(await index_mapping(es, own_index.alias)) < 50


def made_before_attribute_pairs() -> dict:
    """The index template as it was when every attribute name became a field of its own."""
    body = copy.deepcopy(ITEMS_BODY)
    properties = body["mappings"]["properties"]
    del properties["attribute_pairs"]
    properties["attributes"] = {"type": "object", "dynamic": True}
    body["mappings"]["dynamic_templates"] = [{"attributes_as_keywords": {
        "path_match": "attributes.*", "mapping": {"type": "keyword", "ignore_above": 256}}}]
    return body


@pytest.fixture
async def index_made_before_attribute_pairs(es, unique_name):
    """An item index of the old shape holding one item as the old indexer wrote it."""
    index = SearchIndex(es, f"{unique_name}-items")
    await es.indices.create(index=f"{index.alias}-v1", aliases={index.alias: {}}, **made_before_attribute_pairs())
    document = {"item_id": item_id("o"), "title": "Old shirt", "category": "shirts", "price": "10.00", "deleted": False,
                "in_stock": True, "attributes": {"colour": "red", "sizes": ["S", "M"]},
                "attribute_names": ["colour", "sizes"], "version": 1, "indexed_at": datetime.now(UTC).isoformat()}
    await es.index(index=index.alias, id=item_id("o"), document=document, refresh=True)
    yield index
    await es.indices.delete(index=f"{index.alias}-v*", ignore_unavailable=True)


async def test_bootstrap_gives_an_older_index_attribute_pairs_and_stops_its_attribute_fields_growing(
        index_made_before_attribute_pairs, es):
    index = index_made_before_attribute_pairs

    filled = [await add_attribute_pairs(es, index.alias), await add_attribute_pairs(es, index.alias)]
    refused = await index.apply_records([record(item_id("n"), attributes={"never_seen": "x"})])
    await index.refresh()

    assert filled == [1, 0] and not refused
    page = await index.search(SearchParams(attributes={"sizes": ["M"]}, facet_names=["colour"]), None)
    assert [item["item_id"] for item in page["items"]] == [item_id("o")]
    assert page["facets"]["attr.colour"] == [{"value": "red", "count": 1}]
    attribute_fields = (await index_mapping(es, index.alias))["properties"]["attributes"]["properties"]
    assert set(attribute_fields) == {"colour", "sizes"}  # mapped by the old indexer; never_seen is not


async def test_a_rebuild_moves_an_older_index_to_attribute_pairs_with_no_field_per_name(
        index_made_before_attribute_pairs, stored_items, es):
    index = index_made_before_attribute_pairs
    await stored_items(stored("s", 1, attributes={"material": "steel"}))

    await commands.reindex(index, stored_items.db, ITEMS_BODY)  # the old index's item is caught up from it
    await index.refresh()

    steel = await index.search(SearchParams(attributes={"material": ["steel"]}), None)
    red = await index.search(SearchParams(attributes={"colour": ["red"]}), None)
    assert [[i["item_id"] for i in page["items"]] for page in (steel, red)] == [[item_id("s")], [item_id("o")]]
    assert (await index_mapping(es, index.alias))["properties"]["attributes"] == {"type": "object", "enabled": False}
