"""Records search publishes: `search.performed`, one per search served, for analytics and recommendations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from infra.schema.topics import A_WEEK, TopicSpec

SEARCH_PERFORMED_TOPIC = "search.performed"
TOPICS = (TopicSpec(SEARCH_PERFORMED_TOPIC, 3, A_WEEK),)


class SearchPerformed(BaseModel):
    """Keyed by shopper_id when the shopper is known, else by search_id."""

    search_id: str
    shopper_id: str | None = None
    query: str | None
    filters: dict[str, Any]  # the filters as given: category, brand, prices, attributes, pincode, in_stock, sort
    page: int
    total: int
    top_item_ids: list[str]  # the ids shown on this page, best first (at most ten)
    at: str  # RFC 3339 UTC
