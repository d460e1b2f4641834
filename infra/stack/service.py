"""What every backing service of the local stack tells the launcher: how to install, start and health-check it."""

from __future__ import annotations

import shutil
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
    @property
    def version(self) -> str: ...
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
        result = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n" + "\n".join(tail))


# Elasticsearch 7.10 needs the COMPAT locale data that JDK 23+ dropped, and Cassandra 5.0 supports JDK 11/17 only.
_JDK17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def java_binary() -> str:
    """The JDK every JVM service runs on: $JAVA_HOME when set, else Debian's JDK 17, else `java` on the PATH."""
    import os

    home = os.environ.get("JAVA_HOME") or (str(_JDK17) if _JDK17.is_dir() else None)
    return str(Path(home) / "bin" / "java") if home else "java"


def maven_install(paths: StackPaths, service: str, pom: Path, version: str, version_property: str | None = None) -> Path:
    """Copy a pom's runtime jars into the service's `lib/` once per version; Maven's local repository caches downloads."""
    home = paths.artifacts(service)
    lib = home / "lib"
    marker = home / "installed-version"
    if marker.exists() and marker.read_text().strip() == version:
        return lib
    shutil.rmtree(lib, ignore_errors=True)  # never mix jars of two versions on one classpath
    home.mkdir(parents=True, exist_ok=True)
    pin = [f"-D{version_property}={version}"] if version_property else []
    run_quiet(["mvn", "-q", "-B", "-f", str(pom), *pin, "dependency:copy-dependencies", "-DincludeScope=runtime",
               f"-DoutputDirectory={lib}"], paths.log(service))
    marker.write_text(version + "\n")
    return lib
