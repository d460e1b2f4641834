"""The analysts' notebooks (`notebooks/`) run headless, each cell without an error, over a lake the test fills (and
over no lake at all, where they say there is no data yet) and show the figures its events make; the committed
notebooks carry no outputs."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import nbformat
import pytest

from analytics import dimensions, job
from analytics.notebook import NO_DATA
from app.commands import notebook_environment
from infra.settings import PROJECT_ROOT
from tests.analytics.conftest import order_event, rfc3339, search_event, send, wishlist_event

NOTEBOOKS = PROJECT_ROOT / "notebooks"
NAMES = ("sales_by_category_and_day", "search_to_order_funnel", "searches_that_found_nothing")
DAY_1 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)
ITEMS = {"k1": ("Espresso machine", "Kitchen", "24999.00"), "k2": ("Stand mixer", "Kitchen", "18500.00"),
         "b1": ("Cookbook", "Books", "799.00"), "t1": ("Wooden train", "Toys", "1250.00")}
# Each run in the one kernel starts afresh: an empty namespace, the settings read again, the lake it is given.
POINT_AT_LAKE = """\
%reset -f
import os, sys
assert sys.executable == {python!r}, sys.executable
os.environ["SHOP_LAKE_ROOT"] = {root!r}
from infra.settings import get_settings
get_settings.cache_clear()"""


@pytest.mark.unit
def test_committed_notebooks_carry_no_outputs():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))

    notebooks = {path.stem: nbformat.read(path, as_version=4) for path in paths}

    assert set(NAMES) <= set(notebooks)
    for name, notebook in notebooks.items():
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code and all(cell.execution_count is None and cell.outputs == [] for cell in code), name
        assert notebook.cells[0].cell_type == "markdown" and "**Question:**" in notebook.cells[0].source, name


@pytest.mark.stack
@pytest.mark.timeout(900)
async def test_every_notebook_shows_the_lake_s_figures_and_says_when_there_is_none(settings, lake, spark, tmp_path):
    shoppers = [f"nb-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    await send(settings, shop_days(shoppers))
    job.ensure_tables(spark, lake.config)
    dimensions.snapshot(spark, lake.config.table, {"dim_items": item_rows(), "dim_warehouses": []})
    job.start_events(spark, lake.config, once=True).awaitTermination()

    async with kernel() as running:
        filled = {name: await run(running, name, lake.config.root) for name in NAMES}
        empty = {name: await run(running, name, str(tmp_path / "no-lake-here")) for name in NAMES}

    sales, funnel, nothing = (filled[name] for name in NAMES)
    assert "Best-selling category (INR): Kitchen, INR 93,497.00 from 4 units in 3 orders" in sales.text
    assert ["Kitchen", "INR", "4", "93497.000000", "3", "2"] in sales.rows
    assert ["2026-04-07", "Kitchen", "INR", "1", "24999.000000", "1"] in sales.rows
    assert "Shoppers who searched: 5; added to cart: 3 (60.0%); ordered: 2 (40.0%)" in funnel.text
    assert "Best converting category: Books (50.0% of the shoppers who searched it ordered)" in funnel.text
    assert ["Kitchen", "3", "2", "1", "66.7", "50.0", "33.3"] in funnel.rows
    assert ["Toys", "1", "0", "0", "0.0", "NULL", "0.0"] in funnel.rows
    assert "Most frequent search that found nothing: 'unicorn lamp' (4 searches)" in nothing.text
    assert ["unicorn lamp", "4", "1", "0", "Home"] == nothing.rows_starting("unicorn lamp")[0][:5]
    assert not nothing.rows_starting("kettle")
    assert all(run.charts == 1 and run.tables >= 1 for run in filled.values())
    assert all(NO_DATA in run.text and run.charts == 0 for run in empty.values())


def shop_days(shoppers: list[str]) -> list[tuple[str, str, bytes]]:
    """Two days of a small shop: five signed-in shoppers searching, adding to cart and ordering (or not), paid orders
    of others, an unpaid one, searches by shoppers not signed in that found nothing or something, a wishlist add."""
    u1, u2, u3, u4, u5 = shoppers
    at = DAY_1
    return [
        shopper_search(at, u1, "coffee", ["k1", "b1"]), shopper_search(at, u2, "mixer", ["k1", "k2"]),
        shopper_search(at, u3, "cookbook", ["b1"]), shopper_search(at, u4, "stand mixer", ["k2"]),
        shopper_search(at, u5, "toy train", ["t1"]), cart_added(at - timedelta(hours=1), u5, "t1"),
        cart_added(at + timedelta(minutes=5), u1, "k1"), cart_added(at + timedelta(minutes=5), u2, "k2"),
        cart_added(at + timedelta(minutes=5), u3, "b1"), wishlist_event(at + timedelta(minutes=6), "nb-k2"),
        placed(at + timedelta(minutes=10), u1, [("k1", 2)]), placed(at + timedelta(minutes=12), u3, [("b1", 1)]),
        placed(at + timedelta(hours=2), "nb-other", [("k2", 1), ("t1", 1)]),
        placed(DAY_2 + timedelta(hours=1), "nb-other", [("k1", 1), ("x1", 3)]),
        placed(DAY_2 + timedelta(hours=1), "nb-other", [("b1", 10)], kind="order_created"),
        search_event(at + timedelta(hours=1), "Unicorn Lamp", 0), search_event(at + timedelta(hours=3), " unicorn lamp", 0),
        search_event(at + timedelta(hours=1, minutes=30), "kettle", 12), search_event(DAY_2, "unicorn lamp", 0),
        search_event(DAY_2 + timedelta(minutes=30), "purple kettle", 0),
        search_event(DAY_2 + timedelta(minutes=90), "kettle", 12),
        shopper_search(DAY_2 + timedelta(hours=2), u2, "unicorn lamp", [], filters={"category": "Home"}),
    ]


def shopper_search(at: datetime, shopper: str, query: str, shown: list[str],
                   filters: dict | None = None) -> tuple[str, str, bytes]:
    event = {"search_id": uuid.uuid4().hex, "shopper_id": shopper, "query": query, "filters": filters or {},
             "page": 1, "total": len(shown), "top_item_ids": [f"nb-{item}" for item in shown], "at": rfc3339(at)}
    return "search.performed", shopper, json.dumps(event).encode()


def cart_added(at: datetime, shopper: str, item: str) -> tuple[str, str, bytes]:
    event = {"event_id": uuid.uuid4().hex, "type": "item_added", "user_id": shopper, "item_id": f"nb-{item}",
             "quantity": 1, "previous_quantity": 0, "at": rfc3339(at)}
    return "cart.events", shopper, json.dumps(event).encode()


def placed(at: datetime, shopper: str, lines: list[tuple[str, int]],
           kind: str = "order_placed") -> tuple[str, str, bytes]:
    price = {item: price for item, (_, _, price) in ITEMS.items()} | {"x1": "99.00"}
    topic, key, value = order_event(at, [(f"nb-{item}", quantity, price[item]) for item, quantity in lines], kind=kind)
    return topic, key, json.dumps({**json.loads(value), "user_id": shopper}).encode()


def item_rows() -> list[tuple]:
    """The items dimension: every item but x1 (whose lines are uncategorised)."""
    return [(f"nb-{item}", f"s-nb-{item}", title, category, "Acme", Decimal(price), "INR", "M", False, DAY_1)
            for item, (title, category, price) in ITEMS.items()]


@dataclass
class NotebookRun:
    text: str  # everything printed and every result's plain text
    charts: int  # PNG images
    tables: int  # HTML tables

    @property
    def rows(self) -> list[list[str]]:
        """The cells of every row of the plain-text tables shown."""
        return [[cell.strip() for cell in line.strip().strip("|").split("|")]
                for line in self.text.splitlines() if line.startswith("|")]

    def rows_starting(self, first: str) -> list[list[str]]:
        return [row for row in self.rows if row[0] == first]


@asynccontextmanager
async def kernel() -> AsyncIterator:
    """One kernel of this interpreter (so one Spark JVM) in notebooks/, as `shop notebook` starts them."""
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name="python3")
    await manager.start_kernel(env=notebook_environment(), cwd=str(NOTEBOOKS))
    try:
        yield manager
    finally:
        await manager.shutdown_kernel(now=False)


async def run(manager, name: str, lake_root: str) -> NotebookRun:
    """Every cell of the notebook, in order; a cell that raises fails the test with its traceback."""
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(POINT_AT_LAKE.format(python=sys.executable, root=lake_root)))
    client = NotebookClient(notebook, km=manager, timeout=300)
    try:
        await client.async_execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    texts = [output.get("text") or output.get("data", {}).get("text/plain", "") for output in outputs]
    return NotebookRun(text="\n".join(texts), charts=sum("image/png" in output.get("data", {}) for output in outputs),
                       tables=sum("<table" in output.get("data", {}).get("text/html", "") for output in outputs))
