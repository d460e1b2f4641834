"""The `shop` command line: the stack, the API server, the stream worker, the demo, the tests and (from
`app/commands.py`) the business commands."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from app import commands
from infra.settings import get_settings
from infra.stack import launcher, stack_paths, stack_services

app = typer.Typer(help="E-commerce backend: storefront APIs, seller feed, stream workers and batch jobs.", no_args_is_help=True)
stack_app = typer.Typer(help="The local stack of backing services (Kafka, Elasticsearch, MongoDB-wire, MariaDB, Redis, Cassandra, SeaweedFS (S3), Spark).", no_args_is_help=True)
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
    from app.bootstrap import bootstrap_all

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
    subprocess.run(["tail", f"-n{lines}", *(["-F"] if follow else []), *files], check=False)


@stack_app.command("reset")
def stack_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Stop the stack and delete all its data and logs (downloaded artifacts are kept)."""
    if not yes:
        typer.confirm("Delete all local stack data?", abort=True)
    settings = get_settings()
    launcher.reset(stack_services(settings), stack_paths(settings))
    console.print("stack data deleted")


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None),
          workers: int = typer.Option(None, help="API processes sharing the port (SHOP_API_WORKERS, default 1).")) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    settings = get_settings()
    # uvicorn picks uvloop and httptools (both pinned) over asyncio's loop and the pure-Python h11 parser.
    uvicorn.run("app.api:create_app", factory=True, host=host or settings.api_host, port=port or settings.api_port,
                workers=workers or settings.api_workers, access_log=settings.api_access_log)


@app.command()
def worker(log_level: str = typer.Option("info")) -> None:
    """Run the stream worker: every folder's consumers, the outbox relay, and the payment-window listener and sweeper."""
    from app.worker import create_worker

    # faust's own command line reads sys.argv.
    sys.argv = ["shop worker", "worker", "--loglevel", log_level, "--without-web"]
    create_worker(get_settings()).main()


@app.command()
def demo(
    exit_when_done: bool = typer.Option(False, "--exit", help="Stop after the walkthrough instead of serving (for scripts)."),
    items: int = typer.Option(2000, help="How many sample catalog items to put through the seller feed."),
    payment_window: int = typer.Option(20, help="Seconds the demo's orders wait for payment (SHOP_PAYMENT_WINDOW_SECONDS)."),
) -> None:
    """The main job end to end: stack up, API and worker, logistics network, a sample catalog through the feed,
    searches, then orders whose payments succeed, fail and never answer, then the finished ones archived, the
    trending report, and recommendations trained on a crowd of shoppers."""
    import asyncio

    from app.demo import catalog as demo_catalog
    from app.demo import checkout as demo_checkout
    from app.demo import processes as demo_run
    from app.demo import recommend as demo_recommend

    stack_up(skip_bootstrap=False)
    settings = get_settings()
    children = demo_run.start_api_and_worker(settings, {"SHOP_PAYMENT_WINDOW_SECONDS": str(payment_window)})
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    try:
        report = demo_run.wait_until_ready(settings)
        exited = [name for name, child in children.items() if child.poll() is not None]
        if not report.get("ready") or exited:
            console.print_json(data=report)
            console.print(f"[red]not ready; exited: {exited or 'none'}[/]")
            raise typer.Exit(1)
        asyncio.run(demo_catalog.prepare_catalog(settings, base_url, items, console))
        asyncio.run(demo_catalog.show_searches(base_url, console))
        shopper = asyncio.run(demo_checkout.show_checkout(settings, base_url, console, payment_window))
        asyncio.run(demo_checkout.show_archive(settings, base_url, console, shopper))
        asyncio.run(demo_checkout.show_trending(base_url, console))
        crowd, bought = asyncio.run(demo_recommend.shop_around(settings, base_url, console))
        console.print("recommendations: waiting for the lake to take in the crowd's events, then training...")
        asyncio.run(demo_recommend.wait_for_lake(base_url, bought, console))
        demo_recommend.train(settings, console)
        asyncio.run(demo_recommend.show_recommendations(base_url, console, crowd[0]))
        console.print(f"[green]Storefront on {base_url}/ (seller pages at {base_url}/seller)[/]")
        console.print(f"[green]API on {base_url} (docs at /docs); worker running. Ctrl-C stops both.[/]")
        if not exit_when_done:
            for child in children.values():
                child.wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo_run.stop(children.values())


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(
    ctx: typer.Context,
    down_after: bool = typer.Option(False, help="Stop the stack when the tests end."),
) -> None:
    """Bring the stack up (if needed) and run the whole test suite; extra arguments go to pytest."""
    stack_up(skip_bootstrap=False)
    try:
        code = subprocess.run([sys.executable, "-m", "pytest", *ctx.args], check=False).returncode
    finally:
        if down_after:
            stack_down()
    raise typer.Exit(code)


@app.command()
def lint() -> None:
    """The checks that need no services: `ruff check` and `mypy` over the whole project (configured in pyproject.toml)."""
    checks = [[sys.executable, "-m", "ruff", "check", "."], [sys.executable, "-m", "mypy"]]
    failed = [check[2] for check in checks if subprocess.run(check, check=False).returncode != 0]
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/]")
        raise typer.Exit(1)


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


commands.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
