"""What every benchmark shares: starting the API and worker on the local stack, and printing figures."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import httpx
import psutil

from infra.settings import Settings

# The servers benchmarks start run as the development stack does in tests and the demo: orders hand out the simulated
# gateway's `pay_url`, so placement answers (and costs) what earlier runs measured.
BENCH_ENVIRONMENT = {"SHOP_ENVIRONMENT": "development", "SHOP_PAYMENT_SIMULATOR": "true"}


@contextmanager
def api_and_worker(settings: Settings, workers: int = 1):
    """Run `shop serve` and `shop worker` as separate processes, as in production, until the block ends; yields the
    API's URL and the processes' ids by name."""
    cli, env = [sys.executable, "-m", "app.cli"], {**os.environ, **BENCH_ENVIRONMENT}
    with open(settings.stack_dir / "logs" / "bench-processes.log", "ab") as logs:
        children = [subprocess.Popen([*cli, "serve"], stdout=logs, stderr=logs, env=env)]
        children += [subprocess.Popen([*cli, "worker", "--log-level", "warn"], stdout=logs, stderr=logs, env=env)
                     for _ in range(workers)]
        try:
            wait_ready(settings)
            time.sleep(8)  # the worker joins its consumer groups after the API is ready
            pids = {"API server": children[0].pid, **{f"worker {n}": c.pid for n, c in enumerate(children[1:], 1)}}
            yield f"http://{settings.api_host}:{settings.api_port}", pids
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)


@contextmanager
def api_server(settings: Settings, env: dict[str, str] | None = None, workers: int = 1):
    """One `shop serve` (with `workers` uvicorn processes) on a free loopback port, until the block ends; yields its
    URL and process id (its workers are that process's children)."""
    port = free_port()
    with open(settings.stack_dir / "logs" / "bench-processes.log", "ab") as logs:
        child = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                  "--workers", str(workers)], stdout=logs, stderr=logs,
                                 env={**os.environ, **BENCH_ENVIRONMENT, **(env or {})})
        try:
            wait_ready(settings, f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}", child.pid
        finally:
            child.terminate()
            child.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(settings: Settings, base_url: str | None = None, timeout: float = 90) -> None:
    base_url = base_url or f"http://{settings.api_host}:{settings.api_port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("API not ready")


def create_seller(name: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "app.cli", "sellers", "create", name], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


async def closed_loop(clients: int, seconds: float, attempt: Callable[[int], Awaitable[bool]]) -> dict:
    """`clients` loops each awaiting `attempt(client)` back to back for `seconds`: the rate of successful attempts and
    their latency in milliseconds (failed attempts are counted, not timed)."""
    latencies: list[float] = []
    failed = 0
    stop_at = time.monotonic() + seconds

    async def client_loop(client: int) -> None:
        nonlocal failed
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            if await attempt(client):
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                failed += 1

    started = time.monotonic()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    return {"ok": len(latencies), "failed": failed, "seconds": elapsed, "per_s": len(latencies) / elapsed,
            **({"p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99), "max_ms": max(latencies)}
               if latencies else {})}


def stack_pids(settings: Settings) -> dict[str, int]:
    """Process ids of the stack's running services, by name."""
    out = subprocess.run([sys.executable, "-m", "app.cli", "stack", "status", "--json"], capture_output=True,
                         text=True, check=False)
    return {row["name"]: row["pid"] for row in json.loads(out.stdout or "[]") if row.get("pid")}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds each process (with its live children, except for this process, whose children are
    the servers it measures) has used so far, and `machine`: busy CPU
    seconds of all cores."""
    used = {}
    for name, pid in pids.items():
        try:
            process = psutil.Process(pid)
            family = [process] if pid == os.getpid() else [process, *process.children(recursive=True)]
            used[name] = sum(p.cpu_times().user + p.cpu_times().system for p in family)
        except psutil.Error:
            pass
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    used["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    return used


@contextmanager
def cpu_spent(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """The CPU seconds each process, and the whole machine (`machine`), spends inside the block; filled as it ends."""
    spent: dict[str, float] = {}
    before = cpu_seconds(pids)
    yield spent
    after = cpu_seconds(pids)
    spent.update({name: after[name] - before[name] for name in after if name in before})


def cpu_figures(spent: dict[str, float], count: int, unit: str, seconds: float, units: str | None = None
                ) -> dict[str, float]:
    """CPU per `unit` of each measured process, their sum, and the rate this machine's cores could sustain at that
    cost if nothing else ran: the ceiling that the measured processes' own work puts on the rate."""
    per_unit = {name: 1000 * used / count for name, used in spent.items() if name != "machine"}
    total = sum(per_unit.values())
    return {"machine busy (% of all cores)": 100 * spent["machine"] / seconds / os.cpu_count(),
            **{f"CPU ms per {unit}: {name}": ms for name, ms in per_unit.items()},
            f"CPU ms per {unit}: all of the above": total,
            f"ceiling: {units or unit + 's'}/s on {os.cpu_count()} cores at that CPU": os.cpu_count() * 1000 / total}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": statistics.median(values), "p99": percentile(values, 99), "max": max(values)}


def report(title: str, figures: dict) -> None:
    print(f"== {title}")
    for key, value in figures.items():
        print(f"  {key:<40} {value:,.3f}" if isinstance(value, float) else f"  {key:<40} {value}")
