"""The Elasticsearch index template for items; readers and writers use the alias, so a reindex can swap it with no downtime."""

from __future__ import annotations

from typing import Any

ITEMS_ALIAS_SUFFIX = "items"

ITEMS_TEMPLATE: dict[str, Any] = {
    "index_patterns": [],  # filled with "<prefix>-items-*" by items_template()
    "template": {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": "1s",
            "analysis": {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard",
                                                 "filter": ["lowercase", "asciifolding"]}}},
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "item_id": {"type": "keyword"},
                "seller_id": {"type": "keyword"},
                "sku": {"type": "keyword"},
                "title": {"type": "text", "analyzer": "folded", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
                "description": {"type": "text", "analyzer": "folded"},
                "category": {"type": "keyword"},
                "brand": {"type": "keyword"},
                "price": {"type": "scaled_float", "scaling_factor": 100},
                "currency": {"type": "keyword"},
                # Per-category attributes stay free-form: kept in _source as given but never mapped, so the index's
                # fields do not grow with the names sellers use (a field per name would soon hit the field limit).
                "attributes": {"type": "object", "enabled": False},
                # The attribute names an item has: the facets offered for a category are its most common names.
                "attribute_names": {"type": "keyword"},
                # "<name>=<value>" for every attribute value, as an exact keyword: attribute filters are terms on
                # pairs, an attribute's facet a terms aggregation of the pairs its name begins. A search asks for
                # pairs of up to 165 characters (a 64-character name, '=', a 100-character value); longer ones are
                # kept in _source only, as attribute values of over 256 characters always were.
                "attribute_pairs": {"type": "keyword", "ignore_above": 256},
                "size_class": {"type": "keyword"},
                "in_stock": {"type": "boolean"},
                "stock_warehouses": {"type": "keyword"},
                # "<size_class>@<warehouse>" for every warehouse holding the item: the pincode filter's one terms query.
                "delivery_slots": {"type": "keyword"},
                # Stock comes from feed records (guarded by version) and from inventory (guarded by stock_version).
                "stock_version": {"type": "long"},
                "version": {"type": "long"},
                # A delete keeps a tombstone so an older replay cannot bring the item back; searches hide it.
                "deleted": {"type": "boolean"},
                "created_at": {"type": "date"},
                "updated_at": {"type": "date"},
                # When this index last changed the document: a reindex catches up on what changed while it ran.
                "indexed_at": {"type": "date"},
            },
        },
    },
}


def items_alias(prefix: str) -> str:
    return f"{prefix}-{ITEMS_ALIAS_SUFFIX}"


def items_template(prefix: str) -> dict:
    return {**ITEMS_TEMPLATE, "index_patterns": [f"{items_alias(prefix)}-*"]}
