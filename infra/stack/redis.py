"""Redis from Debian's packages, with expired-key notifications on (the payment window listens for them)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from infra.stack.service import Launch, StackPaths

APT_PACKAGES = ("redis-server",)


@dataclass
class Redis:
    port: int = 6379
    name: str = "redis"
    daemon: bool = True

    @property
    def version(self) -> str:
        if not shutil.which("redis-server"):
            return "not installed"
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
        return out.split("v=", 1)[-1].split()[0]

    def install(self, paths: StackPaths) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server not found: install Debian's redis-server (./shop does this)")

    def prepare(self, paths: StackPaths) -> None:
        paths.data(self.name).mkdir(parents=True, exist_ok=True)

    def launch(self, paths: StackPaths) -> Launch:
        return Launch([
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(paths.data(self.name)),
            "--daemonize", "no", "--notify-keyspace-events", "Ex",
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        ])

    def healthy(self) -> bool:
        import redis

        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2) as client:
                return bool(client.ping())
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False
