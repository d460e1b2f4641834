"""Apache Kafka as a single-node KRaft broker+controller, its jars taken from Maven Central."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from infra.stack.service import Launch, StackPaths, java_binary, maven_install, port_open, run_quiet

POM = Path(__file__).parent / "maven" / "kafka" / "pom.xml"

LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.controller=WARN
"""


@dataclass
class Kafka:
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    name = "kafka"
    version = "3.9.2"
    daemon = True

    def install(self, paths: StackPaths) -> None:
        maven_install(paths, self.name, POM, self.version, version_property="kafka.version")

    def _java_base(self, paths: StackPaths) -> list[str]:
        data = paths.data(self.name)
        return [
            java_binary(),
            f"-Dlog4j.configuration=file:{data / 'log4j.properties'}",
            f"-Dkafka.logs.dir={data}",
            "-cp", f"{paths.artifacts(self.name) / 'lib'}/*",
        ]

    def prepare(self, paths: StackPaths) -> None:
        data = paths.data(self.name)
        data.mkdir(parents=True, exist_ok=True)
        (data / "log4j.properties").write_text(LOG4J)
        props = data / "server.properties"
        # Rewritten each time so a changed port takes effect; a static voter list keeps
        # the formatted storage valid across such changes (unlike `format --standalone`).
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={data / 'logs'}",
                    "num.partitions=1",
                    "offsets.topic.replication.factor=1",
                    # 50 partitions by default: slows the first group join on a small box for nothing
                    "offsets.topic.num.partitions=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=1",
                    "default.replication.factor=1",
                    "min.insync.replicas=1",
                    "auto.create.topics.enable=false",  # the project creates its topics explicitly
                    "group.initial.rebalance.delay.ms=0",
                    "",
                ]
            )
        )
        if (data / "logs" / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        run_quiet(
            [*self._java_base(paths), "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
            paths.log(self.name),
        )

    def launch(self, paths: StackPaths) -> Launch:
        data = paths.data(self.name)
        java, *rest = self._java_base(paths)
        return Launch(
            argv=[
                java, f"-Xms{self.heap}", f"-Xmx{self.heap}",
                "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
                *rest, "kafka.Kafka", str(data / "server.properties"),
            ],
            cwd=data,
        )

    def healthy(self) -> bool:
        import asyncio

        from aiokafka.admin import AIOKafkaAdminClient

        async def probe() -> bool:
            admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.port}", request_timeout_ms=3000)
            try:
                await admin.start()
                return bool((await admin.describe_cluster())["brokers"])
            finally:
                await admin.close()

        if not port_open(self.port):  # spares aiokafka's connection-error logging while down
            return False
        try:
            return asyncio.run(asyncio.wait_for(probe(), 5))
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False


def new_cluster_id() -> str:
    """A random KRaft cluster id; like Kafka's own, never starting with '-', which the storage tool would take for an
    option."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()).startswith("-"):
        pass
    return cluster_id
