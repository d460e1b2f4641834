"""The stack's one `shop worker` as the fault tests run it: a subprocess in a process group of its own, so `kill -9`
takes all of it at once, its output appended to `.stack/logs/faults-worker.log` (the evidence when a test fails)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

READY = b"Worker ready"


class WorkerProcess:
    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None
        self.ready_after: list[float] = []  # seconds from each start until the worker said it was ready

    def start(self, timeout: float = 150) -> float:
        """Starts a worker and waits until it says it is ready (its consumers and the relay start then)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        began = time.monotonic()
        with self.log.open("ab") as out:
            out.write(f"\n=== fault tests: worker started at {datetime.now(UTC).isoformat()}\n".encode())
            out.flush()
            self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        while READY not in self._output_since(offset):
            if self.process.poll() is not None or time.monotonic() - began > timeout:
                raise RuntimeError(f"the worker did not become ready (exit code {self.process.poll()}); see {self.log}")
            time.sleep(0.2)
        self.ready_after.append(time.monotonic() - began)
        return self.ready_after[-1]

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the worker's whole process group: no shutdown code runs, no offset or lock is let go politely."""
        assert self.process is not None and self.running(), "no worker to kill"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stops it as an operator would (SIGTERM, SIGKILL after 30 s)."""
        if not self.running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def _output_since(self, offset: int) -> bytes:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read()


def shop_workers() -> list[psutil.Process]:
    """Every `shop worker` process running on this machine (`python -m app.cli worker` or `shop worker`)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "worker" in command[2:] and any(arg == "app.cli" or Path(arg).name == "shop" for arg in command[1:3]):
            found.append(process)
    return found


def stop_our_other_workers() -> list[int]:
    """Stops (SIGTERM) the workers this test run started earlier (the session's `running_worker`), so the worker the
    fault tests kill is the only one; returns their pids. Workers of other runs are not ours to stop."""
    ours = [p for p in shop_workers() if p.pid in {child.pid for child in psutil.Process().children()}]
    for process in ours:
        process.terminate()
    _, alive = psutil.wait_procs(ours, timeout=30)
    for process in alive:
        process.kill()
    return [process.pid for process in ours]
