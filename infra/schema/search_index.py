"""The Elasticsearch index template for items; readers and writers use the alias, so a reindex can swap it with no downtime."""

from __future__ import annotations

ITEMS_ALIAS_SUFFIX = "items"

ITEMS_TEMPLATE = {
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
                # Per-category attributes stay free-form; every value is indexed as an exact keyword for filters and facets.
                "attributes": {"type": "object", "dynamic": True},
                "size_class": {"type": "keyword"},
                "in_stock": {"type": "boolean"},
                "stock_warehouses": {"type": "keyword"},
                "version": {"type": "long"},
                "updated_at": {"type": "date"},
            },
            "dynamic_templates": [
                {"attributes_as_keywords": {"path_match": "attributes.*", "mapping": {"type": "keyword", "ignore_above": 256}}},
            ],
        },
    },
}


def items_alias(prefix: str) -> str:
    return f"{prefix}-{ITEMS_ALIAS_SUFFIX}"


def items_template(prefix: str) -> dict:
    return {**ITEMS_TEMPLATE, "index_patterns": [f"{items_alias(prefix)}-*"]}
