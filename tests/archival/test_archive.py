"""The archive on the real stack: finished orders move to Cassandra identical to what the API showed, leave MySQL, and
everything a person or a system may still ask of them keeps working (the order by id, its Idempotency-Key, a late or
replayed payment, stock reconciliation, the history lists, the merged orders view)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from inventory.store import StockStore
from tests.archival.conftest import FINISHED, in_mysql, journeys, views

pytestmark = pytest.mark.stack


async def archive_all(shop) -> None:
    summary = await shop.state.archiver.run(FINISHED)
    assert not summary.unverified, summary.line()


async def test_finished_orders_move_to_cassandra_as_they_were_and_open_ones_stay(shop):
    made = await journeys(shop)
    before = await views(shop, made.buyer, made.finished + made.open)
    finished_ids = [order["order_id"] for order in made.finished]

    await archive_all(shop)

    after = await views(shop, made.buyer, made.finished + made.open)
    assert after == before  # the order by id: the same document, live or archived
    assert {o["status"] for o in before.values() if o["order_id"] in finished_ids} == {"DELIVERED", "CANCELLED"}
    assert await in_mysql(shop, finished_ids) == {"orders": 0, "order_lines": 0, "refunds": 0,
                                                  "archived_orders": len(finished_ids),
                                                  "payment_events": 4}  # kept: the gateway's idempotency record
    assert (await in_mysql(shop, [made.open[0]["order_id"]]))["orders"] == 1
    archived = {order_id: await shop.state.order_archive.get(order_id) for order_id in finished_ids}
    assert archived == {order_id: before[order_id] for order_id in finished_ids}
    delivered = before[made.delivered[0]["order_id"]]
    assert [step["status"] for step in delivered["timeline"]] == ["CREATED", "PLACED", "SHIPPED", "DELIVERED"]
    refunded = before[made.cancelled[1]["order_id"]]
    assert [(r["reason"], r["status"]) for r in refunded["refunds"]] == [("customer", "completed")]
    assert [e["result"] for e in refunded["payment"]["events"]] == ["place"]


async def test_a_second_run_over_archived_orders_changes_nothing(shop):
    made = await journeys(shop, cancelled=0, refunded=0, failed=0, open_=0)
    await archive_all(shop)
    first = {o["order_id"]: await shop.state.order_archive.get(o["order_id"]) for o in made.finished}

    await archive_all(shop)

    assert {o["order_id"]: await shop.state.order_archive.get(o["order_id"]) for o in made.finished} == first
    assert (await in_mysql(shop, list(first)))["archived_orders"] == len(first)


async def test_an_archived_orders_idempotency_key_still_returns_that_order(shop):
    buyer = await shop.buyer()
    item, _ = await shop.sellable_item(100)
    key = uuid.uuid4().hex
    placed = (await shop.order(buyer, [(item, 2)], key=key)).json()
    await shop.http.post(f"/v1/orders/{placed['order_id']}/cancel", headers=buyer.headers)
    await archive_all(shop)
    stock_before = await shop.stock(item)

    replayed = await shop.order(buyer, [(item, 2)], key=key)
    reused = await shop.order(buyer, [(item, 3)], key=key)

    assert replayed.status_code == 201 and replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json()["order_id"] == placed["order_id"] and replayed.json()["status"] == "CANCELLED"
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"
    assert await shop.stock(item) == stock_before  # nothing reserved again


async def test_payments_for_an_archived_order_are_answered_as_before(shop):
    made = await journeys(shop, delivered=1, cancelled=1, refunded=0, failed=0, open_=0)
    delivered, cancelled = made.delivered[0], made.cancelled[0]
    first_event = f"evt-{uuid.uuid4().hex}"
    late_event = f"evt-{uuid.uuid4().hex}"
    await archive_all(shop)
    async with shop.state.mysql.connect() as conn:
        paid_event = (await conn.execute(text("SELECT event_id FROM payment_events WHERE order_id = :o"),
                                         {"o": delivered["order_id"]})).scalar_one()

    replay = await shop.pay(delivered, "succeeded", event_id=paid_event)
    late_for_delivered = await shop.pay(delivered, "succeeded", event_id=first_event)
    late_for_cancelled = await shop.pay(cancelled, "succeeded", event_id=late_event)
    late_again = await shop.pay(cancelled, "succeeded", event_id=late_event)
    another_success = await shop.pay(cancelled, "succeeded", event_id=f"evt-{uuid.uuid4().hex}")

    assert replay.status_code == 200 and replay.json()["result"] == "duplicate:place"
    assert replay.json()["order"]["status"] == "DELIVERED"
    assert late_for_delivered.json()["result"] == "ignore"
    assert late_for_cancelled.json()["result"] == "refund"  # an unpaid order paid long after: the money goes back
    assert await shop.refund_of(cancelled) == ("late_payment", "pending")
    assert late_again.json()["result"] == "duplicate:refund"
    assert another_success.json()["result"] == "already_refunded"
    assert await shop.state.checkout.settle_refunds(10, [cancelled["payment"]["payment_id"]]) == {"completed": 1}

    await archive_all(shop)  # the late refund, now answered, joins the archived order and leaves MySQL
    archived = await shop.state.order_archive.get(cancelled["order_id"])
    assert [(r["reason"], r["status"]) for r in archived["refunds"]] == [("late_payment", "completed")]
    assert late_event in [e["event_id"] for e in archived["payment"]["events"]]
    assert await shop.refund_of(cancelled) is None
    assert (await shop.status(made.buyer, cancelled["order_id"])) == archived


async def test_stock_still_balances_against_its_movements_after_archiving(shop):
    made = await journeys(shop)
    await archive_all(shop)
    assert await StockStore(shop.state.mysql).reconcile(repair=False, item_ids=made.items) == []


async def test_the_notifications_record_of_an_archived_order_stays(shop, mysql):
    made = await journeys(shop, delivered=1, cancelled=0, refunded=0, failed=0, open_=0)
    order_id = made.delivered[0]["order_id"]
    async with mysql.begin() as conn:  # what the notifier records as it sends (its consumer may run on the stack)
        await conn.execute(text("INSERT IGNORE INTO notifications (event_id, recipient, channel, order_id, event_type, "
                                "subject) VALUES (:e, 'b@example.com', 'log', :o, 'order_delivered', 'Delivered')"),
                           {"e": f"evt-{order_id}", "o": order_id})
    await archive_all(shop)
    async with mysql.connect() as conn:
        kept = (await conn.execute(text("SELECT COUNT(*) FROM notifications WHERE order_id = :o"),
                                   {"o": order_id})).scalar()
    assert kept >= 1


async def test_history_lists_are_newest_first_paged_and_each_caller_sees_only_their_own(shop):
    made = await journeys(shop, delivered=3, cancelled=2, refunded=0, failed=0, open_=1)
    other = await shop.buyer()
    await archive_all(shop)
    expected = sorted(made.finished, key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
    path = f"/v1/history/users/{made.buyer.user_id}/orders"

    pages, cursor = [], None
    while True:
        response = await shop.http.get(path, params={"size": 2, **({"cursor": cursor} if cursor else {})},
                                       headers=made.buyer.headers)
        assert response.status_code == 200, response.text
        pages.append([o["order_id"] for o in response.json()["orders"]])
        if not (cursor := response.json()["next"]):
            break
    by_operations = await shop.http.get(path, params={"size": 100}, headers=shop.operator())
    someone_else = await shop.http.get(path, headers=other.headers)
    one = await shop.http.get(f"/v1/history/orders/{expected[0]['order_id']}", headers=made.buyer.headers)
    one_for_other = await shop.http.get(f"/v1/history/orders/{expected[0]['order_id']}", headers=other.headers)
    forged = await shop.http.get(path, params={"cursor": "bm90IG91cnM"}, headers=made.buyer.headers)

    assert [order_id for page in pages for order_id in page] == [o["order_id"] for o in expected]
    assert max(len(page) for page in pages) == 2
    assert [o["order_id"] for o in by_operations.json()["orders"]] == [o["order_id"] for o in expected]
    assert someone_else.status_code == 403
    assert one.status_code == 200 and one.json()["order_id"] == expected[0]["order_id"]
    assert one_for_other.status_code == 404
    assert forged.status_code == 422 and forged.json()["error"] == "bad_cursor"


async def test_a_seller_sees_only_its_own_lines_of_its_archived_orders(shop):
    (first, key_a), (second, key_b) = [await shop.state.feed_store.create_seller(f"archive-{n}") for n in range(2)]
    made = await journeys(shop, delivered=2, cancelled=0, refunded=0, failed=0, open_=0, sellers=(first, second))
    await archive_all(shop)

    mine = await shop.http.get(f"/v1/history/sellers/{first}/orders", headers={"X-Api-Key": key_a})
    not_mine = await shop.http.get(f"/v1/history/sellers/{first}/orders", headers={"X-Api-Key": key_b})

    assert mine.status_code == 200, mine.text
    orders = {o["order_id"]: o for o in mine.json()["orders"]}
    assert set(orders) == {o["order_id"] for o in made.delivered}
    for order in orders.values():
        assert {line["seller_id"] for line in order["lines"]} == {first}
        assert "user_id" not in order and "pincode" not in order and "total" not in order
        assert order["subtotal"]["amount"] == f"{120 * order['lines'][0]['quantity']:.2f}"
    assert not_mine.status_code == 403


async def test_one_archiver_runs_at_a_time_across_processes(shop, mysql):
    from archival.schedule import ARCHIVER_LOCK, archive_once

    async with mysql.connect() as conn:  # another worker's archiver, mid-run
        assert (await conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": ARCHIVER_LOCK})).scalar() == 1
        try:
            while_held = await archive_once(shop.state.mysql, shop.state.archiver, FINISHED)
        finally:
            await conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": ARCHIVER_LOCK})
    after = await archive_once(shop.state.mysql, shop.state.archiver, FINISHED)
    assert while_held is None
    assert after is not None and not after.unverified
