"""MongoDB indexes; only plain single/compound indexes, so they work on FerretDB and MongoDB 6+ alike."""

from __future__ import annotations

MONGO_INDEXES: dict[str, list[dict]] = {
    "items": [
        # item_id is derived from (seller_id, sku); this keeps a seller's skus unique even if derivation changes.
        {"keys": [("seller_id", 1), ("sku", 1)], "name": "seller_sku", "unique": True},
        {"keys": [("category", 1)], "name": "category"},
    ],
}
