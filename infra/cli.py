"""The `shop` command line: the stack, the API server and the stream worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from infra.settings import get_settings
from infra.stack import launcher, stack_paths, stack_services

app = typer.Typer(help="E-commerce backend: storefront APIs, seller feed, stream workers and batch jobs.", no_args_is_help=True)
stack_app = typer.Typer(help="The local stack of backing services (Kafka, Elasticsearch, MongoDB-wire, MariaDB, Redis, Cassandra, Spark).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
console = Console()


@stack_app.command("up")
def stack_up(
    skip_bootstrap: bool = typer.Option(False, help="Start services without creating topics, indexes and schemas."),
) -> None:
    """Install what is missing, start every service, wait until each is healthy, then bootstrap the schemas."""
    settings = get_settings()
    began = time.monotonic()
    try:
        ready = launcher.up(stack_services(settings), stack_paths(settings), on_event=lambda m: console.print(f"[dim]{m}[/]"))
    except launcher.StackError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    for name, seconds in ready.items():
        console.print(f"{name:<14} healthy after {seconds:5.1f}s")
    if not skip_bootstrap:
        stack_bootstrap()
    console.print(f"[green]stack up in {time.monotonic() - began:.1f}s[/]")


@stack_app.command("bootstrap")
def stack_bootstrap() -> None:
    """Create Kafka topics, the search index, Mongo indexes, MySQL migrations and the Cassandra keyspace (idempotent)."""
    from infra.bootstrap import bootstrap_all

    for line in bootstrap_all(get_settings()):
        console.print(f"[dim]{line}[/]")


@stack_app.command("down")
def stack_down() -> None:
    """Stop every service of the stack (data is kept)."""
    settings = get_settings()
    stopped = launcher.down(stack_services(settings), stack_paths(settings))
    console.print("stopped: " + (", ".join(stopped) or "nothing was running"))


@stack_app.command("status")
def stack_status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Health of every service; exits 1 when any is unhealthy."""
    settings = get_settings()
    rows = launcher.status(stack_services(settings), stack_paths(settings))
    if as_json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
    else:
        console.print(_status_table(rows))
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


@stack_app.command("logs")
def stack_logs(
    service: str = typer.Argument(None, help="One service; all when omitted."),
    lines: int = typer.Option(40, "--lines", "-n"),
    follow: bool = typer.Option(False, "--follow", "-f"),
) -> None:
    """Show the tail of the services' logs."""
    settings = get_settings()
    paths = stack_paths(settings)
    names = [service] if service else [s.name for s in stack_services(settings) if s.daemon]
    files = [str(paths.log(name)) for name in names if paths.log(name).exists()]
    if not files:
        console.print("no logs yet")
        raise typer.Exit(1)
    subprocess.run(["tail", f"-n{lines}", *(["-F"] if follow else []), *files])


@stack_app.command("reset")
def stack_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Stop the stack and delete all its data and logs (downloaded artifacts are kept)."""
    if not yes:
        typer.confirm("Delete all local stack data?", abort=True)
    settings = get_settings()
    launcher.reset(stack_services(settings), stack_paths(settings))
    console.print("stack data deleted")


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None)) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("infra.app:create_app", factory=True, host=host or settings.api_host, port=port or settings.api_port)


@app.command()
def worker(log_level: str = typer.Option("info")) -> None:
    """Run the stream worker (the faust agents of every folder)."""
    from infra.worker import create_worker

    # faust's own command line reads sys.argv.
    sys.argv = ["shop worker", "worker", "--loglevel", log_level, "--without-web"]
    create_worker(get_settings()).main()


@app.command()
def demo(
    exit_when_done: bool = typer.Option(False, "--exit", help="Stop after the walkthrough instead of serving (for scripts)."),
    items: int = typer.Option(2000, help="How many sample catalog items to put through the seller feed."),
) -> None:
    """The main job end to end: stack up, API and worker, logistics network, a sample catalog through the feed, searches."""
    import asyncio

    from infra import demo as demo_run
    from infra import demo_catalog

    stack_up(skip_bootstrap=False)
    settings = get_settings()
    children = demo_run.start_api_and_worker(settings)
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    try:
        report = demo_run.wait_until_ready(settings)
        exited = [child.args[3] for child in children if child.poll() is not None]
        if not report.get("ready") or exited:
            console.print_json(data=report)
            console.print(f"[red]not ready; exited: {exited or 'none'}[/]")
            raise typer.Exit(1)
        asyncio.run(demo_catalog.prepare_catalog(settings, base_url, items, console))
        asyncio.run(demo_catalog.show_searches(base_url, console))
        console.print(f"[green]API on {base_url} (docs at /docs); worker running. Ctrl-C stops both.[/]")
        if not exit_when_done:
            for child in children:
                child.wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo_run.stop(children)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(
    ctx: typer.Context,
    down_after: bool = typer.Option(False, help="Stop the stack when the tests end."),
) -> None:
    """Bring the stack up (if needed) and run the whole test suite; extra arguments go to pytest."""
    stack_up(skip_bootstrap=False)
    try:
        code = subprocess.run([sys.executable, "-m", "pytest", *ctx.args]).returncode
    finally:
        if down_after:
            stack_down()
    raise typer.Exit(code)


# Commands of the business folders. Each builds its clients here (the composition root) and calls the folder's code.
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


def _status_table(rows: list[launcher.ServiceStatus]) -> Table:
    table = Table("service", "version", "port", "pid", "healthy", "resident memory")
    for row in rows:
        table.add_row(
            row.name, row.version, str(row.port or "-"), str(row.pid or "-"),
            "[green]yes[/]" if row.healthy else "[red]no[/]", f"{row.rss_bytes / 2**20:,.0f} MiB" if row.rss_bytes else "-",
        )
    total = sum(row.rss_bytes for row in rows)
    table.add_row("total", "", "", "", "", f"{total / 2**20:,.0f} MiB")
    return table


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
