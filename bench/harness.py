"""What every benchmark shares: starting the API and worker on the local stack, and printing figures."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx

from infra.settings import Settings


@contextmanager
def api_and_worker(settings: Settings, workers: int = 1):
    """Run `shop serve` and `shop worker` as separate processes, as in production, until the block ends."""
    cli = [sys.executable, "-m", "infra.cli"]
    logs = open(settings.stack_dir / "logs" / "bench-processes.log", "ab")
    children = [subprocess.Popen([*cli, "serve"], stdout=logs, stderr=logs)]
    children += [subprocess.Popen([*cli, "worker", "--log-level", "warn"], stdout=logs, stderr=logs) for _ in range(workers)]
    try:
        wait_ready(settings)
        time.sleep(8)  # the worker joins its consumer groups after the API is ready
        yield f"http://{settings.api_host}:{settings.api_port}"
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)


def wait_ready(settings: Settings, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{settings.api_host}:{settings.api_port}/readyz", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("API not ready")


def create_seller(name: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "infra.cli", "sellers", "create", name], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": statistics.median(values), "p99": percentile(values, 99), "max": max(values)}


def report(title: str, figures: dict) -> None:
    print(f"== {title}")
    for key, value in figures.items():
        print(f"  {key:<40} {value:,.3f}" if isinstance(value, float) else f"  {key:<40} {value}")
