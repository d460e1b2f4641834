"""Rules of the item index: how a feed record, a stock change or a stored item becomes a version-guarded change.

The guards run inside Elasticsearch (painless), so a replayed or late record can never overwrite newer data.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from inbound.events import MINOR_UNIT_EXPONENTS, ItemRecord
from inventory.events import StockChanged

# Item fields an upsert replaces as a whole; stock fields are kept unless the record carries stock.
REPLACED_FIELDS = ("title", "description", "category", "brand", "price", "currency", "attributes",
                   "attribute_names", "attribute_pairs", "size_class")

# Every script that changes attributes runs this: the item's "<name>=<value>" pairs, the one keyword field attribute
# filters and facets match, whatever names sellers use (a field per name would soon exhaust the index's field limit).
# Kept in step with `attribute_pairs`; names never hold '=' (`attribute_name`): the replace guards older documents.
SET_ATTRIBUTE_PAIRS = """
src.attribute_pairs = new ArrayList();
if (src.attributes != null) {
  for (def a : src.attributes.entrySet()) {
    String name = a.getKey().replace('=', '_') + '=';
    if (a.getValue() instanceof List) {
      for (def v : a.getValue()) { if (v != null) { src.attribute_pairs.add(name + v); } }
    } else if (a.getValue() != null) { src.attribute_pairs.add(name + a.getValue()); }
  }
}
"""

# Every script that changes size_class or stock_warehouses ends with this: the item's (size class, warehouse) pairs,
# which the pincode filter matches in one terms query. Kept in step with `delivery_slot`.
SET_DELIVERY_SLOTS = """
src.delivery_slots = new ArrayList();
if (src.size_class != null && src.stock_warehouses != null) {
  for (def w : src.stock_warehouses) { src.delivery_slots.add(src.size_class + '@' + w); }
}
"""

# The record contract (inbound.events.minor_units) refuses a record whose own price and currency do not fit in the
# currency's minor units; a patch of only one of them depends on the stored other, so it is checked here, as the item
# store does (item_service.service.money). Throwing refuses the record with this reason and leaves the document be.
CHECK_PRICE = """if (src.price != null && (params.fields.price != null || params.fields.currency != null)) {
  Map exponents = [""" + ", ".join(f"'{name}': {exponent}" for name, exponent in MINOR_UNIT_EXPONENTS.items()) + """];
  String currency = src.currency == null ? '' : src.currency.toUpperCase();
  BigDecimal minor = new BigDecimal(src.price.toString()).movePointRight((int) exponents.getOrDefault(currency, 2));
  String price = 'price ' + src.price;
  if (minor.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0
      || minor.compareTo(BigDecimal.valueOf(Long.MIN_VALUE)) < 0) {
    throw new IllegalArgumentException(price + ' cannot be expressed in ' + src.currency
                                       + ' minor units: the amount does not fit in 64 bits');
  }
  if (minor.stripTrailingZeros().scale() > 0) {
    throw new IllegalArgumentException(price + ' cannot be expressed in ' + src.currency
                                       + ' minor units: more decimals than ' + src.currency + ' has');
  }
}
"""

APPLY_RECORD = """
Map src = ctx._source;
if (src.version != null && src.version >= params.version) { ctx.op = 'none'; return; }
if (params.op == 'patch' && (src.version == null || src.deleted == true)) { ctx.op = 'none'; return; }
boolean reborn = src.version == null || src.deleted == true;
src.item_id = params.item_id; src.seller_id = params.seller_id; src.sku = params.sku;
src.version = params.version; src.updated_at = params.at; src.indexed_at = params.now;
if (params.op == 'delete') { src.deleted = true; return; }
if (params.op == 'upsert') { for (String f : params.replaced) { src.remove(f); } }
for (def e : params.fields.entrySet()) {
  if (e.getKey() == 'attributes' && params.op == 'patch' && src.attributes != null && e.getValue() != null) {
    for (def a : e.getValue().entrySet()) {
      if (a.getValue() == null) { src.attributes.remove(a.getKey()); }
      else { src.attributes[a.getKey()] = a.getValue(); }
    }
  } else { src[e.getKey()] = e.getValue(); }
}
src.attribute_names = src.attributes == null ? [] : new ArrayList(src.attributes.keySet());
""" + SET_ATTRIBUTE_PAIRS + CHECK_PRICE + """if (reborn) { src.created_at = params.created_at; }
src.deleted = false;
if (src.in_stock == null) { src.in_stock = false; src.stock_warehouses = []; }
""" + SET_DELIVERY_SLOTS

APPLY_STOCK = """
Map src = ctx._source;
if (src.stock_version != null && src.stock_version >= params.stock_version) { ctx.op = 'none'; return; }
// A new item's first stock event repeats the stock its feed record already gave: skip rewriting the document.
if (src.stock_version == null && src.in_stock == params.in_stock && src.stock_warehouses == params.stock_warehouses) {
  ctx.op = 'none'; return;
}
src.item_id = params.item_id; src.in_stock = params.in_stock; src.stock_warehouses = params.stock_warehouses;
src.stock_version = params.stock_version; src.indexed_at = params.now;
""" + SET_DELIVERY_SLOTS

# A reindex copies documents that changed in the old index while it ran; each part keeps its own guard.
COPY_DOCUMENT = """
Map src = ctx._source; Map doc = params.doc; List stock = ['in_stock', 'stock_warehouses', 'stock_version'];
boolean newer = doc.version != null && (src.version == null || doc.version > src.version);
boolean stockNewer = doc.stock_version != null && (src.stock_version == null || doc.stock_version > src.stock_version);
if (!newer && !stockNewer) { ctx.op = 'none'; return; }
if (newer) {
  for (String k : new ArrayList(src.keySet())) { if (!stock.contains(k)) { src.remove(k); } }
  for (def e : doc.entrySet()) { if (!stock.contains(e.getKey())) { src[e.getKey()] = e.getValue(); } }
}
if (stockNewer || (newer && src.stock_version == null)) {
  src.in_stock = doc.in_stock; src.stock_warehouses = doc.stock_warehouses; src.stock_version = doc.stock_version;
}
src.indexed_at = params.now;
""" + SET_ATTRIBUTE_PAIRS + SET_DELIVERY_SLOTS


def in_version_order(records: list[ItemRecord]) -> list[int]:
    """Positions of `records`, each item's in version order (ties as delivered), as the item service applies a batch:
    a batch that delivers a patch before the upsert it patches then ends the same in both."""
    return sorted(range(len(records)), key=lambda position: records[position].version)


def record_change(record: ItemRecord, now: str) -> dict[str, Any]:
    """Script parameters that apply one feed record. A null field is one the record does not give, on a patch too (a
    null attribute value still removes that attribute)."""
    fields = record.fields.model_dump(exclude_none=True)
    return {"op": record.op, "item_id": record.item_id, "seller_id": record.seller_id, "sku": record.sku,
            "version": record.version, "at": record.received_at, "created_at": record.received_at, "now": now,
            "replaced": list(REPLACED_FIELDS), "fields": document_fields(fields) if record.op != "delete" else {}}


def stored_item_change(item: dict[str, Any], now: str) -> dict[str, Any]:
    """Script parameters that rebuild a document from the stored item (MongoDB), as an upsert or a tombstone."""
    price = item.get("price") or {}
    fields = {key: item.get(key) for key in ("title", "description", "category", "brand", "attributes", "size_class",
                                             "stock")}
    fields.update(price=price.get("amount"), currency=price.get("currency"))
    fields = {key: value for key, value in fields.items() if value is not None}
    return {"op": "delete" if item.get("deleted") else "upsert", "item_id": item["_id"],
            "seller_id": item.get("seller_id"), "sku": item.get("sku"), "version": item["version"],
            "at": _timestamp(item.get("updated_at")), "created_at": _timestamp(item.get("created_at")), "now": now,
            "replaced": list(REPLACED_FIELDS), "fields": document_fields(fields)}


def stock_change(event: StockChanged, now: str) -> dict[str, Any]:
    warehouses = sorted({line.warehouse_id for line in event.warehouses if line.available > 0})
    return {"item_id": event.item_id, "in_stock": event.in_stock and bool(warehouses),
            "stock_warehouses": warehouses, "stock_version": event.version, "now": now}


def document_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Item fields as the index stores them: price as a decimal string, attributes as keywords, stock as warehouses."""
    out = {key: value for key, value in fields.items() if key not in ("stock", "images")}
    if fields.get("price") is not None:
        out["price"] = str(fields["price"])
    if "attributes" in fields:
        out["attributes"] = attribute_keywords(fields["attributes"] or {})
    if fields.get("stock") is not None:
        held = sorted({line["warehouse_id"] for line in fields["stock"] if line.get("quantity", 0) > 0})
        out.update(in_stock=bool(held), stock_warehouses=held)
    return out


def attribute_keywords(attributes: dict[str, Any]) -> dict[str, Any]:
    """Every attribute value becomes an exact keyword (lists stay lists; null stays null so a patch can remove it)."""
    return {attribute_name(name): _keyword(value) for name, value in attributes.items()}


def attribute_pairs(keywords: dict[str, Any]) -> list[str]:
    """The "<name>=<value>" pairs of attributes as `attribute_keywords` gives them, as `SET_ATTRIBUTE_PAIRS` indexes
    them."""
    return [attribute_pair(name, value) for name, kept in keywords.items()
            for value in (kept if isinstance(kept, list) else [kept]) if value is not None]


def attribute_pair(name: str, value: str) -> str:
    return f"{name}={value}"


def attribute_name(name: str) -> str:
    # A dot once made Elasticsearch read the name as a path into an object (names stay as indexed since); an '=' would
    # end the name early in its "<name>=<value>" pair.
    return name.strip().replace(".", "_").replace("=", "_")


def delivery_slot(size_class: str, warehouse_id: str) -> str:
    return f"{size_class}@{warehouse_id}"


def delivery_eta(size_class: str | None, warehouses: list[str], deliverable: dict[str, dict[str, float]]
                 ) -> float | None:
    """The fastest delivery from a warehouse that holds the item and can carry its size class; None when none can."""
    reachable = deliverable.get(size_class or "", {})
    etas = [reachable[w] for w in warehouses if w in reachable]
    return min(etas) if etas else None


def _keyword(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, list):
        return [_keyword(v) for v in value if not isinstance(v, (list, dict)) and v is not None]
    return json.dumps(value, sort_keys=True, default=str)


def _timestamp(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
