"""The faust stream worker: one app, to which every folder's agents are attached."""

from __future__ import annotations

import faust

from infra.settings import Settings


def create_worker(settings: Settings) -> faust.App:
    return faust.App(
        "shop-worker",
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        topic_replication_factor=1,
        topic_partitions=6,
        web_enabled=False,
        autodiscover=False,
    )
