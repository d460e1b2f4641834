"""The `shop stack` commands as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil
import pytest

from infra.stack import stack_paths, stack_services
from infra.stack.processes import running

pytestmark = pytest.mark.stack


def shop(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_status_reports_every_service_healthy(settings):
    result = shop("stack", "status", "--json")

    rows = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {row["name"] for row in rows} == {"kafka", "elasticsearch", "mongodb", "mysql", "redis", "cassandra",
                                             "seaweedfs", "spark"}
    assert all(row["healthy"] for row in rows)
    assert all(row["pid"] and row["rss_bytes"] > 0 for row in rows if row["name"] != "spark")


@pytest.mark.restarts_stack
def test_down_leaves_no_process_and_up_brings_all_back(settings):
    services = [s for s in stack_services(settings) if s.daemon]
    paths = stack_paths(settings)
    pids = [running(paths, s.name).pid for s in services]

    down = shop("stack", "down")
    still_alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    status_when_down = shop("stack", "status")
    up = shop("stack", "up")

    assert down.returncode == 0, down.stderr
    assert still_alive == []
    assert status_when_down.returncode == 1
    assert up.returncode == 0, up.stdout + up.stderr
    assert shop("stack", "status").returncode == 0
