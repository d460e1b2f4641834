"""`shop stack` operations over the whole set of services (up, down, status, reset), and restarting one of them."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from infra.stack import processes
from infra.stack.service import Service, StackPaths


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    version: str
    port: int
    pid: int | None
    healthy: bool
    rss_bytes: int


def up(services: list[Service], paths: StackPaths, timeout: float = 300, on_event=print) -> dict[str, float]:
    """Install, start and wait for every service to answer its health check; returns seconds to healthy per service."""
    started_at = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        list(pool.map(lambda s: s.install(paths), services))
    on_event(f"artifacts ready in {time.monotonic() - started_at:.1f}s")
    for service in services:
        service.prepare(paths)
        if service.daemon and processes.running(paths, service.name) is None:
            processes.start(paths, service.name, service.launch(paths))
            on_event(f"started {service.name}")

    def await_healthy(service: Service) -> float:
        if not processes.wait_until(lambda: _healthy_or_dead(service, paths), timeout):
            raise StackError(f"{service.name} not healthy after {timeout:.0f}s; see {paths.log(service.name)}")
        return time.monotonic() - started_at

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return dict(zip([s.name for s in services], pool.map(await_healthy, services)))


def down(services: list[Service], paths: StackPaths) -> list[str]:
    """Stop every daemon; returns the names that were running."""
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        stopped = pool.map(lambda s: processes.stop(paths, s.name), services)
    return [s.name for s, was_running in zip(services, stopped) if was_running]


def restart(service: Service, paths: StackPaths, *, timeout: float = 180,
            while_down: Callable[[], None] = lambda: None) -> float:
    """Stop one daemon's process group (as `down` does) and start it again (as `up` does), returning once it answers
    its health check; `while_down` runs in between. Returns the seconds from the stop until it was healthy again."""
    if not service.daemon:
        raise StackError(f"{service.name} runs inside the processes that use it: there is no process to restart")
    began = time.monotonic()
    processes.stop(paths, service.name)
    while_down()
    service.prepare(paths)
    processes.start(paths, service.name, service.launch(paths))
    if not processes.wait_until(lambda: _healthy_or_dead(service, paths), timeout):
        raise StackError(f"{service.name} not healthy {timeout:.0f}s after its restart; see {paths.log(service.name)}")
    return time.monotonic() - began


def status(services: list[Service], paths: StackPaths) -> list[ServiceStatus]:
    def one(service: Service) -> ServiceStatus:
        proc = processes.running(paths, service.name) if service.daemon else None
        return ServiceStatus(
            name=service.name, version=service.version, port=service.port, pid=proc.pid if proc else None,
            healthy=_alive_and_healthy(service, paths), rss_bytes=processes.resident_bytes(proc) if proc else 0,
        )

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return list(pool.map(one, services))


def reset(services: list[Service], paths: StackPaths) -> None:
    """Stop everything and delete data and logs; downloaded artifacts stay so the next `up` is warm."""
    down(services, paths)
    for folder in ("data", "logs", "run"):
        shutil.rmtree(paths.root / folder, ignore_errors=True)


def _healthy_or_dead(service: Service, paths: StackPaths) -> bool:
    """Wait condition that fails fast when a daemon exits during start-up instead of waiting out the timeout."""
    if service.daemon and processes.running(paths, service.name) is None:
        log_tail = "\n".join(paths.log(service.name).read_text(errors="replace").splitlines()[-20:])
        raise StackError(f"{service.name} exited during start-up; last log lines:\n{log_tail}")
    return service.healthy()


def _alive_and_healthy(service: Service, paths: StackPaths) -> bool:
    if service.daemon and processes.running(paths, service.name) is None:
        return False
    return service.healthy()
