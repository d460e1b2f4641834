"""`launcher.restart` on a stand-in daemon (a `sleep` process): no services needed."""

from __future__ import annotations

from dataclasses import dataclass, field

import psutil
import pytest

from infra.stack import launcher, processes
from infra.stack.service import Launch, StackPaths

pytestmark = pytest.mark.unit


@dataclass
class Sleeper:
    """A daemon that is healthy while its process runs (and `answers`); `argv` says what it runs."""

    paths: StackPaths
    argv: list[str] = field(default_factory=lambda: ["sleep", "60"])
    name: str = "sleeper"
    port: int = 0
    version: str = "1"
    daemon: bool = True
    answers: bool = True

    def install(self, paths: StackPaths) -> None:
        pass

    def prepare(self, paths: StackPaths) -> None:
        pass

    def launch(self, paths: StackPaths) -> Launch:
        return Launch(self.argv)

    def healthy(self) -> bool:
        return self.answers and processes.running(self.paths, self.name) is not None


@pytest.fixture
def sleeper(tmp_path):
    service = Sleeper(StackPaths(tmp_path))
    processes.start(service.paths, service.name, service.launch(service.paths))
    yield service
    processes.stop(service.paths, service.name, grace_seconds=5)


def test_a_restart_ends_the_old_process_group_and_waits_for_the_new_one(sleeper):
    old = processes.running(sleeper.paths, sleeper.name)
    seen_while_down = []

    launcher.restart(sleeper, sleeper.paths, while_down=lambda: seen_while_down.append(
        processes.running(sleeper.paths, sleeper.name)))

    new = processes.running(sleeper.paths, sleeper.name)
    assert seen_while_down == [None]
    assert new is not None and new.pid != old.pid
    assert not psutil.pid_exists(old.pid)


def test_a_restart_that_dies_while_starting_says_so_with_its_log(sleeper):
    sleeper.argv, sleeper.answers = ["sh", "-c", "echo cannot bind; exit 3"], False

    with pytest.raises(launcher.StackError, match="exited during start-up(.|\n)*cannot bind"):
        launcher.restart(sleeper, sleeper.paths, timeout=10)


def test_an_engine_without_a_process_is_not_restarted(sleeper):
    sleeper.daemon = False

    with pytest.raises(launcher.StackError, match="no process to restart"):
        launcher.restart(sleeper, sleeper.paths)

    assert processes.running(sleeper.paths, sleeper.name) is not None
