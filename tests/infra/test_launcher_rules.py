"""Pure rules of the launcher and bootstrap: no services needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap import _cql_statements
from app.topics import TOPICS
from infra.stack.processes import running
from infra.stack.service import StackPaths

pytestmark = pytest.mark.unit


def test_cql_files_are_split_into_statements_with_the_keyspace_filled_in():
    cql = "-- a comment; with a semicolon\nCREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {'class': 'x'};\n" \
          "CREATE TABLE {keyspace}.t (a int PRIMARY KEY);\n"

    statements = _cql_statements(cql, "shop_test")

    assert statements == ["CREATE KEYSPACE IF NOT EXISTS shop_test WITH replication = {'class': 'x'}",
                          "CREATE TABLE shop_test.t (a int PRIMARY KEY)"]


def test_a_pidfile_of_a_recycled_pid_is_not_taken_for_the_service(tmp_path):
    paths = StackPaths(tmp_path)
    paths.pidfile("kafka").parent.mkdir(parents=True)
    paths.pidfile("kafka").write_text("1 12345.0")  # pid 1 exists, but was not started at that time

    assert running(paths, "kafka") is None


def test_a_missing_pidfile_means_not_running(tmp_path):
    assert running(StackPaths(tmp_path), "redis") is None


def test_topic_names_are_unique_and_partitioned():
    names = [topic.name for topic in TOPICS]

    assert len(names) == len(set(names))
    assert all(topic.partitions >= 1 for topic in TOPICS)


def test_the_worker_apps_leader_topic_is_created_since_the_app_may_not_declare_topics():
    from app.worker import APP_ID, create_worker
    from infra.settings import Settings

    worker = create_worker(Settings())

    assert worker.conf.topic_allow_declare is False
    assert f"{APP_ID}-__assignor-__leader" in [topic.name for topic in TOPICS]


def test_docker_compose_file_is_valid_compose_v2():
    compose_file = Path(__file__).parents[2] / "infra" / "docker-compose.yml"

    compose = shutil.which("docker-compose", path=str(Path(sys.executable).parent)) or "docker-compose"

    result = subprocess.run([compose, "-f", str(compose_file), "config", "--quiet"], capture_output=True, text=True,
                            check=False)

    assert result.returncode == 0, result.stderr


def test_kafka_cluster_ids_never_start_with_a_dash_which_the_storage_tool_reads_as_an_option():
    from infra.stack.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(3000)]

    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert {len(cluster_id) for cluster_id in ids} == {22}
