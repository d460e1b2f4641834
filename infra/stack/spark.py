"""Spark in local mode: no daemon to start; `install` fetches the jars jobs add to PySpark's own (the Kafka source,
Delta Lake, S3A) through Maven; its health check runs a tiny job in a fresh JVM."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.stack.service import Launch, StackPaths, maven_install

POM = Path(__file__).parent / "maven" / "spark" / "pom.xml"
JARS_VERSION = "kafka-3.5.7+delta-3.3.2+s3a-3.3.4"  # what the pom pins; a change re-copies the jars

_TINY_JOB = (
    "from pyspark.sql import SparkSession\n"
    "s = SparkSession.builder.master('local[1]').appName('shop-health')"
    ".config('spark.ui.enabled','false').config('spark.driver.host','127.0.0.1').getOrCreate()\n"
    "assert s.range(1000).selectExpr('sum(id) AS t').first().t == 499500\n"
    "s.stop()\n"
)


@dataclass
class Spark:
    port: int = 0
    name: str = "spark"
    daemon: bool = False

    @property
    def version(self) -> str:
        try:
            import pyspark

            return pyspark.__version__
        except ImportError:
            return "not installed"

    def install(self, paths: StackPaths) -> None:
        import pyspark  # noqa: F401  (pip installs it with the project)

        maven_install(paths, self.name, POM, JARS_VERSION)

    def prepare(self, paths: StackPaths) -> None:
        paths.data(self.name).mkdir(parents=True, exist_ok=True)

    def launch(self, paths: StackPaths) -> Launch:
        raise NotImplementedError("Spark runs in local mode inside each job; there is no daemon")

    def healthy(self) -> bool:
        try:
            result = subprocess.run([sys.executable, "-c", _TINY_JOB], capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0
