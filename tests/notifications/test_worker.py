"""`shop worker` runs the notifications consumer: with the default (log) channel an event is told and recorded."""

from __future__ import annotations

import pytest

from tests.notifications.conftest import eventually, order_event, publish

pytestmark = pytest.mark.stack


async def test_the_worker_tells_everyone_about_an_event_on_the_log_channel(running_worker, producer, shopper,
                                                                           notification_store):
    event = order_event("order_shipped", user_id=shopper["user_id"])

    await publish(producer, event)

    async def recorded():
        rows = await notification_store.sent_for_order(event.order_id)
        return rows if len(rows) == 3 else None

    rows = await eventually(recorded, timeout=120)
    assert {(row["recipient"], row["channel"]) for row in rows} == {
        (f"user:{shopper['user_id']}", "log"), ("seller:s-a", "log"), ("seller:s-b", "log")}
