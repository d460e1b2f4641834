"""Kafka topics with explicit partition counts; keys are entity ids, so one entity's events stay in one partition."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


COMPACTED = {"cleanup.policy": "compact"}
A_WEEK = {"retention.ms": str(7 * 24 * 3600 * 1000)}

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("catalog.items", 6),
    TopicSpec("catalog.items.rejected", 3, A_WEEK),
    TopicSpec("catalog.items.dlq", 3),
    TopicSpec("catalog.items.outcomes", 3),
    TopicSpec("search.performed", 3, A_WEEK),
    TopicSpec("cart.events", 3),
    TopicSpec("wishlist.events", 3),
    TopicSpec("inventory.stock_changed", 6),
    TopicSpec("orders.events", 6),
    TopicSpec("orders.events.dlq", 3),
    # faust's leader-election topic for the worker app (`<app id>-__assignor-__leader`, see infra/worker.APP_ID): the
    # app may not declare topics, and without this one its consumer logs an error at start and every metadata refresh.
    TopicSpec("shop-worker-__assignor-__leader", 1),
)
