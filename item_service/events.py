"""What the item consumer reports about each record it handled, so the feed status can show every record's fate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from infra.schema.topics import TopicSpec

OUTCOMES_TOPIC = "catalog.items.outcomes"
TOPICS = (TopicSpec(OUTCOMES_TOPIC, 3),)


class RecordOutcome(BaseModel):
    """Keyed by feed_id. `applied` also covers a stale version that was (correctly) ignored: `stale` says so."""

    feed_id: str
    index: int
    item_id: str
    status: Literal["applied", "dead_lettered"]
    stale: bool = False
    errors: list[str] = []
