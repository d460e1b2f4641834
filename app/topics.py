"""Every Kafka topic the backend uses, gathered from the folders' `events.py` (where each is declared, beside its
records) plus the worker's own; `shop stack bootstrap` creates them."""

from __future__ import annotations

from app.worker import LEADER_TOPIC
from cart.events import TOPICS as CART_TOPICS
from inbound.events import TOPICS as FEED_TOPICS
from infra.schema.topics import TopicSpec
from inventory.events import TOPICS as INVENTORY_TOPICS
from item_service.events import TOPICS as ITEM_TOPICS
from orders.events import TOPICS as ORDER_TOPICS
from search.events import TOPICS as SEARCH_TOPICS

TOPICS: tuple[TopicSpec, ...] = (*FEED_TOPICS, *ITEM_TOPICS, *SEARCH_TOPICS, *CART_TOPICS, *INVENTORY_TOPICS,
                                 *ORDER_TOPICS, LEADER_TOPIC)
