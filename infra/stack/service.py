"""What every backing service of the local stack tells the launcher: how to install, start and health-check it."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StackPaths:
    """Where the stack keeps its state; everything lives under one git-ignored folder."""

    root: Path

    def data(self, service: str) -> Path:
        return self.root / "data" / service

    def log(self, service: str) -> Path:
        return self.root / "logs" / f"{service}.log"

    def pidfile(self, service: str) -> Path:
        return self.root / "run" / f"{service}.pid"

    def artifacts(self, service: str) -> Path:
        """Installed binaries/jars; kept across `reset` so a second `up` downloads nothing."""
        return self.root / "artifacts" / service


@dataclass(frozen=True)
class Launch:
    """How to run a service as a long-lived child process."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


class Service(Protocol):
    name: str
    port: int
    version: str
    daemon: bool  # False for in-process engines (Spark local mode) that have no process to start

    def install(self, paths: StackPaths) -> None:
        """Fetch artifacts through the machine's package managers; a no-op when already cached."""

    def prepare(self, paths: StackPaths) -> None:
        """One-time initialisation of the data folder (format storage, write config); idempotent."""

    def launch(self, paths: StackPaths) -> Launch: ...

    def healthy(self) -> bool:
        """A real request to the service (not a port probe alone); must return within a few seconds."""


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def run_quiet(argv: list[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run an install step, appending its output to the service log; raise with the log's tail on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        result = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n" + "\n".join(tail))
