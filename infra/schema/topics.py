"""How a Kafka topic is declared: explicit partition counts (keys are entity ids, so one entity's events stay in one
partition) and its configuration. Each folder declares its own topics in its `events.py`; `app/topics.py` gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


COMPACTED = {"cleanup.policy": "compact"}
A_WEEK = {"retention.ms": str(7 * 24 * 3600 * 1000)}
