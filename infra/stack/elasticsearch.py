"""Elasticsearch 7.10.2 as one local node: the server and its modules from Maven Central, run by codelibs' cluster runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.stack.service import Launch, StackPaths, java_binary, maven_install

POM = Path(__file__).parent / "maven" / "elasticsearch" / "pom.xml"
MAIN = "org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner"
CLUSTER = "local-stack"


@dataclass
class Elasticsearch:
    port: int = 9200
    transport_port: int = 9300
    heap: str = "1g"
    name = "elasticsearch"
    version = "7.10.2"
    daemon = True

    def install(self, paths: StackPaths) -> None:
        maven_install(paths, self.name, POM, self.version)

    def prepare(self, paths: StackPaths) -> None:
        data = paths.data(self.name)
        for sub in ("config", "data", "logs"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        # Rewritten each time so a changed port takes effect. The runner's own settings (http.port,
        # cluster.name, node.roles) override this file, so only what it leaves unset goes here.
        (data / "config" / "elasticsearch.yml").write_text(
            "\n".join(
                [
                    "network.host: 127.0.0.1",
                    f"transport.port: {self.transport_port}",
                    "discovery.type: single-node",
                    # A dev disk is often >90% full: never refuse shards or flip indices read-only over it.
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "",
                ]
            )
        )

    def launch(self, paths: StackPaths) -> Launch:
        data = paths.data(self.name)
        return Launch(
            argv=[
                java_binary(), f"-Xms{self.heap}", f"-Xmx{self.heap}",
                # build_flavor is "unknown" outside the official tarball; elasticsearch-py 7.17
                # refuses a 7.0-7.13 server whose flavor is not "default".
                "-Des.distribution.flavor=default",
                "-Djava.locale.providers=SPI,COMPAT",  # as ES's own jvm.options: its date formats expect it
                # Also from ES's jvm.options: keep Netty off the JDK internals that JDK 17 closes.
                "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true",
                "-Dfile.encoding=UTF-8", "-Djava.awt.headless=true", "-XX:+ExitOnOutOfMemoryError",
                "-cp", f"{paths.artifacts(self.name) / 'lib'}/*", MAIN,
                "-numOfNode", "1",
                # The runner serves node N on baseHttpPort + N (and silently moves up when that port is taken).
                "-baseHttpPort", str(self.port - 1),
                "-clusterName", CLUSTER,
                "-basePath", str(data),
                "-confPath", str(data / "config"),
                "-dataPath", str(data / "data"),
                "-logsPath", str(data / "logs"),
            ],
            cwd=data,
        )

    def healthy(self) -> bool:
        try:
            import httpx

            response = httpx.get(f"http://127.0.0.1:{self.port}/_cluster/health", timeout=3.0)
            body = response.json()
            # The cluster name tells our node from another Elasticsearch that may hold the port.
            return (
                response.status_code == 200
                and body.get("cluster_name") == CLUSTER
                and body.get("status") in ("green", "yellow")
            )
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False
