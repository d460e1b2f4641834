"""`shop demo`: the main job end to end on the local stack: API and stream worker on top of the running engines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable

import httpx

from infra.settings import Settings

# The demo pays its orders through the simulated gateway (`pay_url`), a development-only feature.
DEMO_ENVIRONMENT = {"SHOP_ENVIRONMENT": "development", "SHOP_PAYMENT_SIMULATOR": "true"}


def start_api_and_worker(settings: Settings, env: dict[str, str] | None = None) -> dict[str, subprocess.Popen]:
    """The API, the worker and the lake's streaming job as child processes, by command name (the lake's Spark
    output goes to `.stack/logs/demo-lake.log`)."""
    cli, env = [sys.executable, "-m", "app.cli"], {**os.environ, **DEMO_ENVIRONMENT, **(env or {})}
    lake_log = settings.stack_dir / "logs" / "demo-lake.log"
    lake_log.parent.mkdir(parents=True, exist_ok=True)
    with lake_log.open("ab") as log:
        lake = subprocess.Popen([*cli, "lake"], env={**env, "SHOP_LAKE_DIMENSIONS_SECONDS": "20"}, stdout=log,
                                stderr=subprocess.STDOUT)
    return {
        "serve": subprocess.Popen([*cli, "serve"], env=env),
        "worker": subprocess.Popen([*cli, "worker", "--log-level", "warn"], env=env),
        "lake": lake,
    }


def wait_until_ready(settings: Settings, timeout: float = 60) -> dict:
    """Poll /readyz until every dependency answers; returns the last readiness report."""
    url = f"http://{settings.api_host}:{settings.api_port}/readyz"
    deadline = time.monotonic() + timeout
    report: dict = {"ready": False, "checks": "API not answering"}
    while time.monotonic() < deadline:
        try:
            report = httpx.get(url, timeout=5).json()
            if report.get("ready"):
                return report
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return report


def stop(children: Iterable[subprocess.Popen]) -> None:
    children = list(children)
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
