"""The `shop` commands of the business folders: each gets its stores from one `Stores` and calls the folder's code.
`register` puts them on the CLI's Typer app."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from app.builder import open_stores
from infra.settings import get_settings

console = Console()

# --- inbound commands (shop ingest, shop sellers create) ---
sellers_app = typer.Typer(help="Sellers of the marketplace and their API keys.", no_args_is_help=True)


@sellers_app.command("create")
def sellers_create(name: str) -> None:
    """Register a seller; prints {"seller_id", "api_key"} (the key is shown only this once)."""
    import asyncio

    from inbound import commands

    async def create() -> dict:
        async with open_stores(get_settings()) as stores:
            return await commands.create_seller(stores.feed_store, name)

    print(json.dumps(asyncio.run(create())))


def ingest(
    file: str = typer.Argument(..., help="A .csv, .jsonl/.ndjson or .json (array) feed."),
    seller: str = typer.Option(..., "--seller", help="The seller_id the records belong to."),
) -> None:
    """Ingest a feed file for a seller exactly as the API would; prints the feed summary as JSON."""
    import asyncio
    from pathlib import Path

    from inbound import commands
    from inbound.feed import FeedInterrupted, FeedTooLarge

    async def ingest_with_stores() -> dict:
        async with open_stores(get_settings()) as stores:
            await stores.producer.start()
            try:
                return await commands.ingest_file(Path(file), seller, feeds=stores.feed_store, producer=stores.producer,
                                                  limits=stores.feed_limits)
            finally:
                await stores.producer.stop()

    try:
        summary = asyncio.run(ingest_with_stores())
    except (commands.CannotIngest, FeedTooLarge, FeedInterrupted) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    print(json.dumps(summary))


# --- search commands (shop reindex) ---
def reindex(batch_size: int = typer.Option(1000, help="Items read from MongoDB and indexed per bulk request.")) -> None:
    """Rebuild the search index from MongoDB into a new index, then swap the alias to it (searches never stop)."""
    import asyncio

    from infra.schema.search_index import items_template
    from search.commands import reindex as rebuild_index

    settings = get_settings()

    async def rebuild() -> None:
        async with open_stores(settings) as stores:
            body = items_template(settings.elasticsearch_index_prefix)["template"]
            await rebuild_index(stores.search_index, stores.mongo[settings.mongo_database], body,
                                batch_size=batch_size, progress=console.print)

    asyncio.run(rebuild())


# --- serviceability commands (shop logistics load) ---
logistics_app = typer.Typer(help="Warehouses, pincodes and courier routes: serviceability and delivery times.",
                            no_args_is_help=True)


@logistics_app.command("load")
def logistics_load(
    file: str = typer.Argument(None, help="Network file, .json or .json.gz (format in logistics/service.py); "
                                          "the sample network when omitted."),
) -> None:
    """Validate a logistics network, precompute the fastest route from every warehouse to every pincode, swap it into Redis."""
    import asyncio
    from pathlib import Path

    from logistics import commands

    async def load() -> commands.LoadReport:
        async with open_stores(get_settings()) as stores:
            return await commands.load_file(Path(file) if file else None, stores.serviceability)

    try:
        report = asyncio.run(load())
    except commands.InvalidNetwork as error:
        console.print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for line in report.lines():
        console.print(line, markup=False)


# --- inventory commands (shop inventory reconcile) ---
inventory_app = typer.Typer(help="Stock per item and warehouse.", no_args_is_help=True)


@inventory_app.command("reconcile")
def inventory_reconcile(
    repair: bool = typer.Option(False, "--repair", help="Set every drifted row to what its movements add up to."),
    items: list[str] = typer.Option(None, "--item", help="Check only this item (repeatable); all items when omitted."),
) -> None:
    """Recompute stock from the movements (restocks, reservations, releases) and report (or repair) every drift.
    Exits 1 while drift remains."""
    import asyncio

    from inventory import commands

    async def reconcile():
        async with open_stores(get_settings()) as stores:
            return await stores.stock.reconcile(repair=repair, item_ids=items or None)

    found = asyncio.run(reconcile())
    if found:
        console.print(commands.drift_table(found, repair))
    console.print(commands.summary(found, len(set(items)) if items else None, repair), markup=False)
    raise typer.Exit(commands.exit_code(found, repair))


# --- archival commands (shop archive) ---
def archive(
    older_than: str = typer.Option(None, "--older-than", help="Finished at least this long ago: 30d, 12h, 90m, "
                                   "seconds, or 0 for every finished order; SHOP_ARCHIVE_AFTER when omitted."),
    limit: int = typer.Option(None, "--limit", min=1, help="Archive at most this many orders."),
    steps: bool = typer.Option(False, "--steps", help="Also print a line as each step of each batch ends."),
) -> None:
    """Move finished orders (DELIVERED, CANCELLED) from MySQL to the Cassandra archive: written, read back and
    verified, then deleted from MySQL. Safe to stop at any moment and run again. Exits 1 when some did not verify."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from archival.model import parse_duration
    from archival.schedule import archive_once

    settings = get_settings()
    try:
        wait = parse_duration(older_than if older_than is not None else settings.archive_after)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2)

    async def run(bar: Progress):
        task = bar.add_task("archiving", total=limit)
        async with open_stores(settings) as stores:
            finished = stores.archiver.finished
            if limit is None:
                bar.update(task, total=len(await finished.due(_before(wait), 10_000_000)))

            def progress(step: str, count: int) -> None:
                if steps:
                    print(f"step {step} {count}", flush=True)
                if step == "removed":
                    bar.advance(task, count)
                bar.update(task, description=f"archiving ({step} {count})")

            return await archive_once(stores.mysql, stores.archiver, wait, limit, progress)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        summary = asyncio.run(run(bar))
    if summary is None:
        console.print("[yellow]another archiver is running (the worker's schedule?); nothing done[/]")
        raise typer.Exit(1)
    console.print(summary.line(), markup=False)
    raise typer.Exit(1 if summary.unverified else 0)


def _before(wait):
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None) - wait


# --- analytics commands (shop lake) ---
lake_app = typer.Typer(help="The event lake on Spark: `shop lake` streams events in and keeps the reports; "
                       "`--once` catches up and stops.", invoke_without_command=True)


@lake_app.callback()
def lake(ctx: typer.Context,
         once: bool = typer.Option(False, "--once", help="Catch up with what Kafka holds now, then stop.")) -> None:
    """Stream every business event from Kafka into the lake's tables and keep the trending and revenue reports; the
    dimensions are snapshotted at start and every SHOP_LAKE_DIMENSIONS_SECONDS."""
    if ctx.invoked_subcommand is not None:
        return
    from analytics.commands import run_streams
    from analytics.session import lake_spark
    from app.builder import lake_config

    settings = get_settings()
    spark = lake_spark(settings, "shop-lake")
    try:
        run_streams(spark, lake_config(settings), settings.redis_url, settings.reports_prefix, once, console.print,
                    refresh_dimensions=None if once or not settings.lake_dimensions_seconds
                    else lambda: _snapshot_dimensions(settings, spark),
                    refresh_seconds=settings.lake_dimensions_seconds)
    finally:
        spark.stop()


def _snapshot_dimensions(settings, spark) -> dict[str, int]:
    import asyncio

    from analytics import dimensions
    from app.builder import lake_config

    async def read() -> dict[str, list[tuple]]:
        at = dimensions.now()
        async with open_stores(settings) as stores:
            return {"dim_items": await dimensions.item_rows(stores.item_store, at),
                    "dim_warehouses": await dimensions.warehouse_rows(stores.serviceability, at)}

    return dimensions.snapshot(spark, lake_config(settings).table, asyncio.run(read()))


@lake_app.command("dimensions")
def lake_dimensions() -> None:
    """Snapshot the dimensions (items with category, brand, seller; warehouses) into the lake."""
    from analytics.session import lake_spark

    settings = get_settings()
    spark = lake_spark(settings, "shop-lake-dimensions")
    try:
        written = _snapshot_dimensions(settings, spark)
    finally:
        spark.stop()
    console.print(f"lake: dimensions snapshotted: {written}")


@lake_app.command("daily")
def lake_daily() -> None:
    """Recompute daily sales per category and seller from the whole lake (the batch stage)."""
    from analytics.commands import daily_sales
    from analytics.session import lake_spark
    from app.builder import lake_config

    settings = get_settings()
    spark = lake_spark(settings, "shop-lake-daily")
    try:
        console.print(f"lake: daily_sales has {daily_sales(spark, lake_config(settings))} rows")
    finally:
        spark.stop()


@lake_app.command("compact")
def lake_compact() -> None:
    """Rewrite the lake's small files into large ones (Delta OPTIMIZE), then drop the replaced files past retention."""
    from analytics.commands import compact
    from analytics.session import lake_spark
    from app.builder import lake_config

    settings = get_settings()
    spark = lake_spark(settings, "shop-lake-compact")
    try:
        for name, (before, after) in compact(spark, lake_config(settings)).items():
            console.print(f"{name}: {before} files -> {after}")
    finally:
        spark.stop()


# --- recommendation commands (shop recommend train|tune|evaluate) ---
recommend_app = typer.Typer(help="Recommendations: implicit ALS on Spark, blended with repeat and popularity.",
                            no_args_is_help=True)


@recommend_app.command("evaluate")
def recommend_evaluate(
    interactions: str = typer.Option(..., "--interactions", help="A CSV of user_id,item_id,timestamp and optionally "
                                     "weight; timestamps in epoch seconds or ISO 8601."),
    k: int = typer.Option(10, "--k", min=1, help="The length of the lists scored (recall also at twice this)."),
) -> None:
    """Hold out each user's latest 20% of interactions, train on the rest, and score model, als, popularity and repeat
    on them; prints a table, then the figures as one JSON object on the last line."""
    import time
    from pathlib import Path

    from recommendations.als import als_spark, factorize
    from recommendations.evaluate import evaluate, table
    from recommendations.interactions import InvalidInteractions, read_csv

    began = time.monotonic()
    try:
        data = read_csv(Path(interactions))
    except (OSError, InvalidInteractions) as error:
        console.print(f"{interactions}: {error}", style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    if not len(data):
        console.print(f"{interactions}: no interactions", style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    spark = als_spark(get_settings(), "shop-recommend-evaluate")
    try:
        evaluation = evaluate(data, k, factorize(spark))
    finally:
        spark.stop()
    console.print(table(evaluation, k))
    console.print(f"evaluated in {time.monotonic() - began:.1f}s", markup=False)
    print(evaluation.json())


@recommend_app.command("train")
def recommend_train(every: float = typer.Option(0, "--every", min=0, help="Train again this many seconds after each "
                                                "run started, until stopped (0: once).")) -> None:
    """Train on the lake's interactions (ALS with the tuned hyperparameters), write a new model version to Cassandra,
    switch readers to it, and drop versions retired longer ago than SHOP_RECOMMEND_GRACE_SECONDS."""
    import time

    from app.builder import lake_config
    from recommendations.commands import train

    while True:
        began = time.monotonic()
        try:
            train(get_settings(), lake_config(get_settings()), console.print)
        except Exception as failed:  # noqa: BLE001 - an empty lake, a store away: the current model keeps serving
            console.print(f"[red]training failed: {failed}[/]")
            if not every:
                raise typer.Exit(1)
        if not every:
            return
        time.sleep(max(0.0, began + every - time.monotonic()))


@recommend_app.command("tune")
def recommend_tune() -> None:
    """Pick ALS's rank, regParam, alpha and iterations on the lake's interactions (each shopper's latest 20% held
    out) and keep them for `shop recommend train`."""
    from app.builder import lake_config
    from recommendations.commands import tune

    console.print(f"tuned: {tune(get_settings(), lake_config(get_settings()), console.print)}")


# --- the analysts' notebooks (shop notebook) ---
def notebook(port: int = typer.Option(8888, help="The port JupyterLab listens on, on 127.0.0.1.")) -> None:
    """Open JupyterLab on the analysts' notebooks (notebooks/), wired to the local Spark and the lake."""
    import os
    import secrets
    import subprocess
    import sys

    from infra.settings import PROJECT_ROOT

    token = secrets.token_hex(24)  # in the environment, not on the command line where `ps` shows it
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--ServerApp.root_dir={PROJECT_ROOT / 'notebooks'}"]
    if os.geteuid() == 0:  # the development machine and CI run as root; Jupyter refuses root unless told
        command.append("--allow-root")
    print(f"JupyterLab: http://127.0.0.1:{port}/lab?token={token} (Ctrl-C twice stops it)", flush=True)
    finished = subprocess.run(command, env={**notebook_environment(), "JUPYTER_TOKEN": token}, check=False)
    raise typer.Exit(finished.returncode)


def notebook_environment() -> dict[str, str]:
    """What a notebook's kernel runs with: the project importable, and the settings this command reads (a kernel runs
    in notebooks/, out of sight of `.env`); variables already set win over `.env`, as they do for the settings."""
    import os

    from dotenv import dotenv_values

    from infra.settings import PROJECT_ROOT

    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    dotenv = {name: value for name, value in dotenv_values(".env").items() if value is not None}
    # SPARK_LOCAL_IP: Spark binds to loopback as the settings say, without first warning that it would not
    return {"SPARK_LOCAL_IP": "127.0.0.1", **dotenv, **os.environ, "PYTHONPATH": path}


def register(app: typer.Typer) -> None:
    """Put the business commands on the `shop` command line."""
    app.add_typer(sellers_app, name="sellers")
    app.command()(ingest)
    app.command()(reindex)
    app.add_typer(logistics_app, name="logistics")
    app.add_typer(inventory_app, name="inventory")
    app.command()(archive)
    app.add_typer(lake_app, name="lake")
    app.add_typer(recommend_app, name="recommend")
    app.command()(notebook)
