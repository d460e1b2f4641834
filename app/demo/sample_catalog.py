"""A realistic sample catalog: the demo products CSV shipped in the npm package `@vendure/create`, grown to any size.

The CSV is fetched with `npm pack` (the npm registry) into `.stack/cache/` at run time, never committed.
"""

from __future__ import annotations

import csv
import random
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

VENDURE_PACKAGE = "@vendure/create@3.7.3"
CSV_MEMBER = "package/assets/products.csv"

COLOURS = ("black", "white", "red", "blue", "green", "grey", "silver", "navy", "olive", "maroon")
EDITIONS = ("Classic", "Pro", "Lite", "Plus", "Max", "Mini", "Eco", "Sport", "Studio", "Travel")
INR_PER_USD = 80
BULKY_CATEGORIES = {"Furniture", "Home & Garden", "Plants"}
SMALL_CATEGORIES = {"Electronics", "Computers", "Camera & Photo", "Footwear"}


def vendure_products(cache_dir: Path) -> list[dict]:
    """One dict per product variant, with the product's name/description/facets carried onto its variants."""
    csv_path = cache_dir / "vendure-products.csv"
    if not csv_path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", VENDURE_PACKAGE, "--silent", "--pack-destination", str(cache_dir)],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(cache_dir / out) as tar:
            member = tar.extractfile(CSV_MEMBER)
            if member is None:
                raise RuntimeError(f"{VENDURE_PACKAGE} no longer ships {CSV_MEMBER}")
            csv_path.write_bytes(member.read())
    variants, product = [], {}
    for row in csv.DictReader(csv_path.open(encoding="utf-8")):
        row = {key.strip(): (value or "").strip() for key, value in row.items()}
        if row["name"]:
            product = row
        variants.append({**row, **{k: product[k] for k in ("name", "description", "facets", "optionGroups")}})
    return variants


def _facets(variant: dict) -> tuple[str, str | None]:
    pairs = [part.split(":", 1) for part in variant["facets"].split("|") if ":" in part]
    categories = [value for key, value in pairs if key == "category"]
    brands = [value for key, value in pairs if key == "brand"]
    return (categories[-1] if categories else "General"), (brands[0] if brands else None)


def _attributes(variant: dict) -> dict:
    # Option groups look like "screen size" or "size:shoe-size" (name:code); attribute names become snake_case names.
    names = [group.split(":", 1)[0].strip().lower().replace(" ", "_") for group in variant["optionGroups"].split("|")]
    return dict(zip(names, variant["optionValues"].split("|"))) if variant["optionGroups"] else {}


def _size_class(category: str, rng: random.Random) -> str:
    if category in BULKY_CATEGORIES:
        return rng.choice(("large", "bulky"))
    if category in SMALL_CATEGORIES:
        return rng.choice(("small", "small", "medium"))
    return rng.choice(("small", "medium", "medium", "large"))


def grow(variants: list[dict], count: int, warehouses: list[str], seed: int = 7) -> Iterator[dict]:
    """`count` feed records built from the variants: new skus, edition/colour variations, prices and stock spread out."""
    rng = random.Random(seed)
    for n in range(count):
        base = variants[n % len(variants)]
        category, brand = _facets(base)
        edition, colour = EDITIONS[(n // len(variants)) % len(EDITIONS)], rng.choice(COLOURS)
        attributes = _attributes(base)
        attributes["colour"] = colour
        stocked = rng.sample(warehouses, k=min(len(warehouses), rng.randint(1, 3))) if warehouses else []
        yield {
            "sku": f"{base['sku']}-{n}", "title": f"{base['name']} {edition} ({colour})",
            "description": base["description"], "category": category, "brand": brand or "Generic",
            "price": f"{float(base['price']) * INR_PER_USD * rng.uniform(0.7, 1.3):.2f}", "currency": "INR",
            "attributes": attributes, "size_class": _size_class(category, rng),
            "stock": [{"warehouse_id": w, "quantity": rng.choice((0, 5, 20, 100))} for w in stocked],
        }
