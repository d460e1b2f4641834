"""MariaDB from Debian's packages, run on its own data folder under `.stack/` without systemd."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from infra.stack.service import Launch, StackPaths, run_quiet

APT_PACKAGES = ("mariadb-server", "mariadb-client")


@dataclass
class MariaDB:
    port: int = 3306
    user: str = "shop"
    password: str = "shop"
    database: str = "shop"
    buffer_pool: str = "256M"
    name: str = "mysql"
    daemon: bool = True

    @property
    def version(self) -> str:
        if not shutil.which("mariadbd"):
            return "not installed"
        out = subprocess.run(["mariadbd", "--version"], capture_output=True, text=True, check=False).stdout
        return out.split("Ver", 1)[-1].split("-MariaDB", 1)[0].strip() or out.strip()

    def install(self, paths: StackPaths) -> None:
        if not shutil.which("mariadbd"):
            raise RuntimeError("mariadbd not found: install Debian's " + " ".join(APT_PACKAGES) + " (./shop does this)")

    def prepare(self, paths: StackPaths) -> None:
        data = paths.data(self.name)
        if not (data / "db" / "mysql").is_dir():
            (data / "db").mkdir(parents=True, exist_ok=True)
            run_quiet(
                ["mariadb-install-db", "--no-defaults", f"--datadir={data / 'db'}", "--user=" + _run_user(),
                 "--auth-root-authentication-method=normal", "--skip-test-db"],
                paths.log(self.name),
            )
        # Runs at every start: keeps the application user and database in step with the settings.
        (data / "init.sql").write_text(
            f"CREATE DATABASE IF NOT EXISTS `{self.database}`;\n"
            f"CREATE USER IF NOT EXISTS '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}';\n"
            f"ALTER USER '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}';\n"
            # The `shop%` pattern also covers the throwaway databases tests create.
            f"GRANT ALL PRIVILEGES ON `{self.database}%`.* TO '{self.user}'@'127.0.0.1';\n"
        )

    def launch(self, paths: StackPaths) -> Launch:
        data = paths.data(self.name)
        return Launch([
            "mariadbd", "--no-defaults", f"--datadir={data / 'db'}", f"--socket={data / 'mysqld.sock'}",
            f"--pid-file={data / 'mysqld.pid'}", f"--port={self.port}", "--bind-address=127.0.0.1",
            "--skip-name-resolve", f"--init-file={data / 'init.sql'}", f"--user={_run_user()}",
            f"--innodb-buffer-pool-size={self.buffer_pool}", "--max-connections=1000",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
            "--default-time-zone=+00:00", "--transaction-isolation=READ-COMMITTED",
        ])

    def healthy(self) -> bool:
        import asyncio

        import asyncmy

        async def select_one() -> bool:
            conn = await asyncmy.connect(host="127.0.0.1", port=self.port, user=self.user,
                                         password=self.password, database=self.database, connect_timeout=2)
            try:
                async with conn.cursor() as cur:
                    await cur.execute("SELECT 1")
                    return (await cur.fetchone())[0] == 1
            finally:
                conn.close()

        try:
            return asyncio.run(select_one())
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False


def _run_user() -> str:
    # mariadbd refuses to run as root unless told to; elsewhere it runs as whoever starts the stack.
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
