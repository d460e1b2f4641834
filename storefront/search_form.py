"""The search page's form: what the shopper asked for (read leniently from the page's query string), the public
search API's parameters for it, and the links that change one thing (a page, a price range) keeping the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

SORTS = {"relevance": "Best match", "newest": "Newest", "price_asc": "Price: low to high",
         "price_desc": "Price: high to low"}
PAGE_SIZE = 12
PINCODE = re.compile(r"^[1-9][0-9]{5}$")
MAX_PAGE = 100


@dataclass
class SearchForm:
    q: str = ""
    categories: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    min_price: str = ""
    max_price: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)  # (name, value), a name may repeat
    sort: str = "relevance"
    page: int = 1
    pincode: str = ""

    def api_params(self) -> list[tuple[str, str]]:
        """`GET /v1/search` parameters; a value the API would refuse (a malformed price or pincode) is left out."""
        params = [("size", str(PAGE_SIZE)), ("page", str(self.page)), ("sort", self.sort)]
        params += [("q", self.q)] if self.q else []
        params += [("category", c) for c in self.categories] + [("brand", b) for b in self.brands]
        params += [(f"attr.{name}", value) for name, value in self.attributes]
        params += [(bound, value) for bound, value in (("min_price", self.min_price), ("max_price", self.max_price))
                   if _price(value) is not None]
        params += [("pincode", self.pincode)] if self.valid_pincode else []
        return params

    @property
    def valid_pincode(self) -> bool:
        return bool(PINCODE.match(self.pincode))

    def query(self, **changes: str | int) -> str:
        """This search's page query string with some fields changed (e.g. `page=2`), for links."""
        pairs = [(k, v) for k, v in self.page_params() if k not in changes]
        pairs += [(k, str(v)) for k, v in changes.items() if v not in ("", None)]
        return urlencode(pairs)

    def page_params(self) -> list[tuple[str, str]]:
        pairs = [("q", self.q), ("sort", self.sort), ("pincode", self.pincode), ("min_price", self.min_price),
                 ("max_price", self.max_price), ("page", str(self.page))]
        pairs += [("category", c) for c in self.categories] + [("brand", b) for b in self.brands]
        pairs += [(f"attr.{name}", value) for name, value in self.attributes]
        return [(k, v) for k, v in pairs if v and not (k == "page" and v == "1")]

    def has_attribute(self, name: str, value: str) -> bool:
        return (name, value) in self.attributes


def read_form(pairs: list[tuple[str, str]], default_pincode: str = "") -> SearchForm:
    """The form from the page's query string; anything unreadable falls back to its default."""
    form = SearchForm(pincode=default_pincode)
    for key, raw in pairs:
        value = raw.strip()[:200]
        if key == "q":
            form.q = value
        elif key in ("category", "brand") and value:
            (form.categories if key == "category" else form.brands).append(value)
        elif key in ("min_price", "max_price"):
            setattr(form, key, value if _price(value) is not None else "")
        elif key.startswith("attr.") and len(key) > 5 and value:
            form.attributes.append((key[5:], value))
        elif key == "sort" and value in SORTS:
            form.sort = value
        elif key == "page" and value.isdigit():
            form.page = min(max(int(value), 1), MAX_PAGE)
        elif key == "pincode":
            form.pincode = value
    return form


def page_count(total: int) -> int:
    return min(max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), MAX_PAGE)


def _price(value: str) -> Decimal | None:
    try:
        price = Decimal(value)
    except InvalidOperation:
        return None
    return price if price.is_finite() and price >= 0 else None
