"""MongoDB wire protocol for the stack: FerretDB 1.24 on SQLite, built from our tiny Go module in ./ferretdb."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.stack.service import Launch, StackPaths, run_quiet

MODULE_DIR = Path(__file__).resolve().parent / "ferretdb"


def _go() -> str:
    # The launcher may run without /usr/local/go/bin on PATH.
    return shutil.which("go") or "/usr/local/go/bin/go"


@dataclass
class FerretDB:
    port: int = 27017
    name: str = "mongodb"
    version: str = "FerretDB 1.24.2 (SQLite)"
    daemon: bool = True

    def _binary(self, paths: StackPaths) -> Path:
        return paths.artifacts(self.name) / "ferretdb"

    def install(self, paths: StackPaths) -> None:
        binary = self._binary(paths)
        marker = binary.with_name("VERSION")
        if binary.exists() and marker.exists() and marker.read_text().strip() == self.version:
            return
        binary.parent.mkdir(parents=True, exist_ok=True)
        # -buildvcs=false: the module sits inside the project's git tree, and VCS stamping is
        # both useless here and fails where git is missing; CGO off since modernc SQLite is pure Go.
        env = {**os.environ, "GOFLAGS": "-mod=mod -buildvcs=false", "CGO_ENABLED": "0"}
        run_quiet([_go(), "build", "-trimpath", "-o", str(binary), "."],
                  paths.log(self.name), cwd=MODULE_DIR, env=env)
        marker.write_text(self.version + "\n")

    def prepare(self, paths: StackPaths) -> None:
        # FerretDB refuses to start unless the SQLite directory already exists.
        paths.data(self.name).mkdir(parents=True, exist_ok=True)

    def launch(self, paths: StackPaths) -> Launch:
        return Launch(
            argv=[
                str(self._binary(paths)),
                "-listen-addr", f"127.0.0.1:{self.port}",
                "-sqlite-url", str(paths.data(self.name)),
                "-log-level", "info",
            ],
            cwd=paths.data(self.name),
        )

    def healthy(self) -> bool:
        try:
            from pymongo import MongoClient

            client: MongoClient[dict[str, Any]] = MongoClient(
                "127.0.0.1", self.port, directConnection=True,
                serverSelectionTimeoutMS=1500, connectTimeoutMS=1500, socketTimeoutMS=3000,
            )
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False
        try:
            return client.admin.command("ping").get("ok") == 1
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False
        finally:
            client.close()
