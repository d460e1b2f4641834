"""Builders for the archive tests: the API in-process (the orders tests' `Shop`), orders driven through the API to
each way an order can finish, and what MySQL still holds of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, text

from tests.orders.conftest import Buyer, Shop, sample_network, shop  # noqa: F401  (fixtures)

FINISHED = timedelta(0)  # SHOP_ARCHIVE_AFTER in the tests: every finished order is due


@dataclass
class Journeys:
    """Orders of one shopper, each finished a different way (and one still open), as the API answered them."""

    buyer: Buyer
    items: list[str]
    delivered: list[dict] = field(default_factory=list)
    cancelled: list[dict] = field(default_factory=list)
    open: list[dict] = field(default_factory=list)

    @property
    def finished(self) -> list[dict]:
        return self.delivered + self.cancelled


async def journeys(api: Shop, *, delivered: int = 2, cancelled: int = 1, refunded: int = 1, failed: int = 1,
                   open_: int = 1, buyer: Buyer | None = None, sellers: tuple[str | None, str | None] = (None, None)
                   ) -> Journeys:
    """A shopper's orders of two sellers' items: `delivered` paid, shipped and delivered; `cancelled` by the shopper
    unpaid; `refunded` paid then cancelled (refund settled by the gateway); `failed` payments; `open_` paid only."""
    buyer = buyer or await api.buyer()
    items = [(await api.sellable_item(1_000, price=price, seller_id=seller))[0]
             for price, seller in zip(("120.00", "75.50"), sellers)]
    made = Journeys(buyer, items)

    async def placed(n: int) -> dict:
        response = await api.order(buyer, [(items[0], 1 + n % 2), (items[1], 1)])
        assert response.status_code == 201, response.text
        return response.json()

    for n in range(delivered):
        order = await placed(n)
        assert (await api.pay(order, "succeeded")).status_code == 200
        for action in ("ship", "deliver"):
            moved = await api.http.post(f"/v1/orders/{order['order_id']}/{action}", headers=api.operator())
            assert moved.status_code == 200, moved.text
        made.delivered.append(order)
    for n in range(cancelled):
        order = await placed(n)
        assert (await api.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)).status_code == 200
        made.cancelled.append(order)
    for n in range(refunded):
        order = await placed(n)
        assert (await api.pay(order, "succeeded")).status_code == 200
        assert (await api.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)).status_code == 200
        await api.state.checkout.settle_refunds(10, [order["payment"]["payment_id"]])
        made.cancelled.append(order)
    for n in range(failed):
        order = await placed(n)
        assert (await api.pay(order, "failed")).status_code == 200
        made.cancelled.append(order)
    for n in range(open_):
        order = await placed(n)
        assert (await api.pay(order, "succeeded")).status_code == 200
        made.open.append(order)
    return made


async def views(api: Shop, buyer: Buyer, orders: list[dict]) -> dict[str, dict]:
    """`GET /v1/orders/{id}` of each order, by id."""
    found = {}
    for order in orders:
        response = await api.http.get(f"/v1/orders/{order['order_id']}", headers=buyer.headers)
        assert response.status_code == 200, response.text
        found[order["order_id"]] = response.json()
    return found


async def in_mysql(api: Shop, order_ids: list[str]) -> dict[str, int]:
    """Rows MySQL holds of these orders, per table."""
    counts = {}
    async with api.state.mysql.connect() as conn:
        for table in ("orders", "order_lines", "refunds", "archived_orders", "payment_events"):
            sql = text(f"SELECT COUNT(*) FROM {table} WHERE order_id IN :ids").bindparams(bindparam("ids", expanding=True))
            counts[table] = (await conn.execute(sql, {"ids": order_ids})).scalar()
    return counts
