"""Apache Cassandra as a single local node: cassandra-all jars from Maven Central, run as its own JVM."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from infra.stack.service import Launch, StackPaths, java_binary, maven_install

POM = Path(__file__).parent / "maven" / "cassandra" / "pom.xml"

# JPMS and Netty flags from Cassandra 5.0's conf/jvm17-server.options; without them startup fails on
# inaccessible JDK internals (jamm, Unsafe buffers, the JMX/RMI server).
JVM17_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports=java.sql/java.sql=ALL-UNNAMED",
    "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
)

YAML = """\
cluster_name: local-stack
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:{storage_port}"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: {storage_port}
native_transport_port: {port}
start_native_transport: true
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
data_file_directories: [{data}/data]
commitlog_directory: {data}/commitlog
saved_caches_directory: {data}/saved_caches
hints_directory: {data}/hints
cdc_raw_directory: {data}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 16MiB
commitlog_total_space: 256MiB
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 16MiB
row_cache_size: 0MiB
counter_cache_size: 4MiB
prepared_statements_cache_size: 8MiB
file_cache_size: 32MiB
networking_cache_size: 16MiB
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
concurrent_compactors: 1
# dev data: dropping/truncating tables should not leave snapshots behind
auto_snapshot: false
"""

LOGBACK = """\
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %logger{1}: %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


@dataclass
class Cassandra:
    """Single-node Cassandra on 127.0.0.1 with a small heap; data, config and caches under one folder."""

    port: int = 9042
    storage_port: int = 7000
    jmx_port: int = 7199
    heap: str = "1g"
    name = "cassandra"
    version = "5.0.9"
    daemon = True

    def install(self, paths: StackPaths) -> None:
        maven_install(paths, self.name, POM, self.version, version_property="cassandra.version")

    def prepare(self, paths: StackPaths) -> None:
        data = paths.data(self.name)
        for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw", "triggers"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        (data / "cassandra.yaml").write_text(YAML.format(port=self.port, storage_port=self.storage_port, data=data))
        (data / "logback.xml").write_text(LOGBACK)

    def launch(self, paths: StackPaths) -> Launch:
        data, lib = paths.data(self.name), paths.artifacts(self.name) / "lib"
        jamm = next(lib.glob("jamm-*.jar"))
        argv = [
            *self._no_mlock(),
            java_binary(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "-Xss256k",
            *JVM17_OPTIONS,
            f"-javaagent:{jamm}",  # precise memtable sizing, as bin/cassandra does
            "-Djava.net.preferIPv4Stack=true",
            "-XX:+PerfDisableSharedMem",
            "-XX:+ExitOnOutOfMemoryError",
            f"-Dcassandra.config=file://{data / 'cassandra.yaml'}",
            f"-Dlogback.configurationFile={data / 'logback.xml'}",
            f"-Dcassandra.storagedir={data}",
            f"-Dcassandra.jmx.local.port={self.jmx_port}",
            f"-Dcassandra.triggers_dir={data / 'triggers'}",
            # one node, its own seed: nothing to gossip with or wait for
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=1000",
            "-Dcassandra-foreground=yes",
            "-cp", f"{lib}/*",
            "org.apache.cassandra.service.CassandraDaemon",
        ]
        return Launch(argv=argv, cwd=data)

    @staticmethod
    def _no_mlock() -> list[str]:
        # Cassandra always calls mlockall(MCL_CURRENT); as root that succeeds and pins the whole heap
        # (+0.5 GB RSS, ~5 s startup). Without CAP_IPC_LOCK it fails on the memlock rlimit and only warns.
        if os.geteuid() == 0 and shutil.which("setpriv"):
            return ["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"]
        return []

    def healthy(self) -> bool:
        try:
            from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
            from cassandra.policies import RoundRobinPolicy

            profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=3)
            cluster = Cluster(["127.0.0.1"], port=self.port, connect_timeout=2, control_connection_timeout=2,
                              execution_profiles={EXEC_PROFILE_DEFAULT: profile})
            try:
                row = cluster.connect().execute("SELECT release_version FROM system.local").one()
                return bool(row and row.release_version)
            finally:
                cluster.shutdown()
        except Exception:  # noqa: BLE001 (a health probe: any failure means not healthy yet)
            return False
