"""Starting, finding and stopping the stack's detached service processes through pid files."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil

from infra.stack.service import Launch, StackPaths


def running(paths: StackPaths, name: str) -> psutil.Process | None:
    """The live process recorded for `name`, or None; the start time guards against a recycled pid."""
    pidfile = paths.pidfile(name)
    try:
        pid, started = pidfile.read_text().split()
        proc = psutil.Process(int(pid))
        if abs(proc.create_time() - float(started)) < 1 and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except (FileNotFoundError, ValueError, psutil.Error):
        pass
    return None


def start(paths: StackPaths, name: str, launch: Launch) -> psutil.Process:
    log = paths.log(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    paths.pidfile(name).parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(
            launch.argv, cwd=launch.cwd, env={**os.environ, **launch.env}, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # its own process group, so `down` can end it whole
        )
    proc = psutil.Process(child.pid)
    paths.pidfile(name).write_text(f"{child.pid} {proc.create_time()}")
    return proc


def stop(paths: StackPaths, name: str, grace_seconds: float = 30) -> bool:
    """SIGTERM the service's process group, SIGKILL what is left after the grace period; True if one was running."""
    proc = running(paths, name)
    paths.pidfile(name).unlink(missing_ok=True)
    if proc is None:
        return False
    group = [proc, *proc.children(recursive=True)]
    _signal_group(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(group, timeout=grace_seconds)
    if alive:
        _signal_group(proc.pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
    return True


def resident_bytes(proc: psutil.Process) -> int:
    try:
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0


def wait_until(check, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
