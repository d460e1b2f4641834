"""The API and the worker start on the real stack and say they are ready."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from app.api import create_app

pytestmark = pytest.mark.stack


def test_api_is_live_ready_and_documented(settings):
    with TestClient(create_app(settings)) as client:
        live, ready = client.get("/healthz"), client.get("/readyz")
        openapi, docs = client.get("/openapi.json"), client.get("/docs")

    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.json()
    assert set(ready.json()["checks"]) == {"kafka", "elasticsearch", "mongodb", "mysql", "redis", "cassandra"}
    assert "/readyz" in openapi.json()["paths"]
    assert docs.status_code == 200


def test_readiness_names_a_dependency_that_is_down(settings):
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    with TestClient(create_app(unreachable)) as client:
        ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("failing")
    assert ready.json()["checks"]["kafka"] == "ok"


def test_worker_joins_kafka_and_reports_ready():
    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    deadline, seen = time.monotonic() + 90, []
    while time.monotonic() < deadline and worker.poll() is None:
        seen.append(worker.stdout.readline())
        if "Worker ready" in seen[-1]:
            break

    worker.terminate()
    worker.wait(timeout=30)
    assert any("Worker ready" in line for line in seen), "".join(seen[-30:])
