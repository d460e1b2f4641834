"""Builders for the page tests: the project served by `shop serve` on a port of its own, Debian's Chromium driven by
Playwright, a stocked catalog put through the seller feed, and `look_at`, which saves a screenshot of a page and
checks it with axe-core."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from infra import connections
from logistics.store import ServiceabilityStore
from tests.orders.conftest import PINCODE, sample_network, shop  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE = ROOT / "storefront" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Catalog:
    """Items a seller put through the feed, applied, in stock in a warehouse that delivers to PINCODE."""

    word: str  # a made-up word in every title, so a search finds these items only
    item_ids: list[str]
    warehouse_id: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def served() -> Iterator[str]:
    """The base URL of a real `shop serve` (the tests' settings: development, the simulated payment gateway)."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "serve.log").open("w")  # a file, not a pipe nobody reads (a full pipe would stall the server)
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        server.kill()
        log.close()
        raise RuntimeError(f"shop serve did not start:\n{(ARTIFACTS / 'serve.log').read_text()[-3000:]}")
    yield base_url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium (Playwright's own browser builds are not used)."""
    executable = shutil.which("chromium")
    assert executable, "install Debian's chromium package (./shop does on first use)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
async def phone(browser, served) -> AsyncIterator[Page]:
    """A fresh phone-sized browser tab (no cookies) on the served shop."""
    context = await browser.new_context(base_url=served, viewport=PHONE)
    page = await context.new_page()
    yield page
    await context.close()


async def look_at(page: Page, name: str, *, full_page: bool = True) -> list[dict]:
    """Saves the page's screenshot as tests/artifacts/screenshots/<name>.png and runs axe-core on it: fails on any
    serious or critical violation; returns every violation (recorded in tests/artifacts/axe/<name>.json)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)
    await page.add_script_tag(path=AXE)
    violations = await page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "targets: v.nodes.map(n => n.target.join(' '))}))")
    (ARTIFACTS / "axe").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe" / f"{name}.json").write_text(json.dumps({"url": page.url, "violations": violations}, indent=1))
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name}: accessibility violations {json.dumps(blocking, indent=1)}"
    return violations


async def wide_screenshot(page: Page, name: str) -> None:
    """The page as a desktop browser shows it (tests/artifacts/screenshots/<name>-wide.png), then back to the phone."""
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=SCREENSHOTS / f"{name}-wide.png", full_page=True)
    await page.set_viewport_size(PHONE)


@pytest.fixture(scope="session")
async def delivering_warehouse(settings, sample_network) -> str:  # noqa: F811 (sample_network is a fixture)
    redis = connections.redis(settings)
    etas = (await ServiceabilityStore(redis).deliverable_from(PINCODE))["small"]
    await redis.aclose()
    return min(etas, key=etas.get)


async def new_seller(settings) -> tuple[str, str]:
    from inbound.store import FeedStore

    engine = connections.mysql(settings)
    seller_id, api_key = await FeedStore(engine).create_seller(f"Page Traders {uuid.uuid4().hex[:6]}")
    await engine.dispose()
    return seller_id, api_key


@pytest.fixture(scope="session")
async def catalog(settings, served, running_worker, delivering_warehouse) -> Catalog:
    """Two kettles through the seller feed (the worker applies them), searchable and deliverable to PINCODE."""
    word = "zephyrine" + uuid.uuid4().hex[:4].translate(str.maketrans("0123456789", "ghijklmnop"))
    seller_id, api_key = await new_seller(settings)
    records = [{"sku": f"kettle-{n}", "title": f"Copper {word} kettle {n}", "description": "Boils water quickly.",
                "category": "kitchen", "brand": "Pagecraft", "price": f"{1000 + n * 250}.00", "currency": "INR",
                "size_class": "small", "attributes": {"colour": colour, "capacity_litres": 1.5},
                "stock": [{"warehouse_id": delivering_warehouse, "quantity": 20}]}
               for n, colour in ((1, "copper"), (2, "black"))]
    async with httpx.AsyncClient(base_url=served, timeout=30, headers={"X-Api-Key": api_key}) as http:
        sent = await http.post(f"/v1/sellers/{seller_id}/items", content="\n".join(map(json.dumps, records)),
                               headers={"Content-Type": "application/x-ndjson"})
        assert sent.status_code == 202, sent.text
        item_ids = await applied(http, f"/v1/sellers/{seller_id}/feeds/{sent.json()['feed_id']}", len(records))
        await searchable(http, word, len(records))
    return Catalog(word, item_ids, delivering_warehouse)


async def applied(http: httpx.AsyncClient, feed_path: str, count: int) -> list[str]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        feed = (await http.get(feed_path)).json()
        if feed["counts"].get("applied", 0) == count:
            return [record["item_id"] for record in feed["records"]]
        await asyncio.sleep(0.5)
    raise AssertionError(f"feed not applied: {feed}")


async def searchable(http: httpx.AsyncClient, word: str, count: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = (await http.get("/v1/search", params={"q": word, "pincode": PINCODE})).json()
        if found.get("total") == count:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"items not searchable at {PINCODE}: {found}")
