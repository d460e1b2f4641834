"""The `shop` commands of the business folders; each builds its clients here (the composition root) and calls the folder's code."""

from __future__ import annotations

import json

import typer

from infra.cli import app, console
from infra.settings import get_settings

# --- inbound commands (shop ingest, shop sellers create) ---
sellers_app = typer.Typer(help="Sellers of the marketplace and their API keys.", no_args_is_help=True)
app.add_typer(sellers_app, name="sellers")


@sellers_app.command("create")
def sellers_create(name: str) -> None:
    """Register a seller; prints {"seller_id", "api_key"} (the key is shown only this once)."""
    import asyncio

    from inbound import commands

    print(json.dumps(asyncio.run(_with_feed_store(lambda feeds, _: commands.create_seller(feeds, name)))))


@app.command()
def ingest(
    file: str = typer.Argument(..., help="A .csv, .jsonl/.ndjson or .json (array) feed."),
    seller: str = typer.Option(..., "--seller", help="The seller_id the records belong to."),
) -> None:
    """Ingest a feed file for a seller exactly as the API would; prints the feed summary as JSON."""
    import asyncio
    from pathlib import Path

    from inbound import commands
    from inbound.feed import FeedInterrupted, FeedLimits, FeedTooLarge

    settings = get_settings()
    limits = FeedLimits(chunk_records=settings.feed_chunk_records, max_records=settings.feed_max_records)
    try:
        summary = asyncio.run(_with_feed_store(lambda feeds, producer: commands.ingest_file(
            Path(file), seller, feeds=feeds, producer=producer, limits=limits), with_producer=True))
    except (commands.CannotIngest, FeedTooLarge, FeedInterrupted) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    print(json.dumps(summary))


async def _with_feed_store(run, with_producer: bool = False):
    from inbound.store import FeedStore
    from infra import connections

    settings = get_settings()
    engine = connections.mysql(settings)
    producer = connections.kafka_producer(settings) if with_producer else None
    try:
        if producer:
            await producer.start()
        return await run(FeedStore(engine), producer)
    finally:
        if producer:
            await producer.stop()
        await engine.dispose()


# --- search commands (shop reindex) ---
@app.command()
def reindex(batch_size: int = typer.Option(1000, help="Items read from MongoDB and indexed per bulk request.")) -> None:
    """Rebuild the search index from MongoDB into a new index, then swap the alias to it (searches never stop)."""
    import asyncio

    from infra import connections
    from infra.schema.search_index import items_alias, items_template
    from search.commands import reindex as rebuild_index
    from search.store import SearchIndex

    settings = get_settings()

    async def rebuild() -> None:
        es, mongo = connections.elasticsearch(settings), connections.mongo(settings)
        try:
            index = SearchIndex(es, items_alias(settings.elasticsearch_index_prefix))
            body = items_template(settings.elasticsearch_index_prefix)["template"]
            await rebuild_index(index, mongo[settings.mongo_database], body, batch_size=batch_size, progress=console.print)
        finally:
            await asyncio.gather(es.close(), mongo.close())

    asyncio.run(rebuild())


# --- serviceability commands (shop logistics load) ---
logistics_app = typer.Typer(help="Warehouses, pincodes and courier routes: serviceability and delivery times.",
                            no_args_is_help=True)
app.add_typer(logistics_app, name="logistics")


@logistics_app.command("load")
def logistics_load(
    file: str = typer.Argument(None, help="Network file, .json or .json.gz (format in search/serviceability/service.py); "
                                          "the sample network when omitted."),
) -> None:
    """Validate a logistics network, precompute the fastest route from every warehouse to every pincode, swap it into Redis."""
    import asyncio
    from pathlib import Path

    from infra import connections
    from search.serviceability import commands
    from search.serviceability.store import ServiceabilityStore

    async def load() -> commands.LoadReport:
        redis = connections.redis(get_settings())
        try:
            return await commands.load_file(Path(file) if file else None, ServiceabilityStore(redis))
        finally:
            await redis.aclose()

    try:
        report = asyncio.run(load())
    except commands.InvalidNetwork as error:
        console.print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for line in report.lines():
        console.print(line, markup=False)




# --- inventory commands (shop inventory reconcile) ---
inventory_app = typer.Typer(help="Stock per item and warehouse.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("reconcile")
def inventory_reconcile(
    repair: bool = typer.Option(False, "--repair", help="Set every drifted row to what its movements add up to."),
    items: list[str] = typer.Option(None, "--item", help="Check only this item (repeatable); all items when omitted."),
) -> None:
    """Recompute stock from the movements (restocks, reservations, releases) and report (or repair) every drift.
    Exits 1 while drift remains."""
    import asyncio

    from infra import connections
    from inventory import commands
    from inventory.store import StockStore

    async def reconcile():
        engine = connections.mysql(get_settings())
        try:
            return await StockStore(engine).reconcile(repair=repair, item_ids=items or None)
        finally:
            await engine.dispose()

    found = asyncio.run(reconcile())
    if found:
        console.print(commands.drift_table(found, repair))
    console.print(commands.summary(found, len(set(items)) if items else None, repair), markup=False)
    raise typer.Exit(commands.exit_code(found, repair))
