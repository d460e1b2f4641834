"""The local stack of real engines: one module per service, the launcher over them."""

from __future__ import annotations

from infra.settings import Settings
from infra.stack.service import Service, StackPaths


def stack_paths(settings: Settings) -> StackPaths:
    return StackPaths(settings.stack_dir)


def stack_services(settings: Settings) -> list[Service]:
    """Every backing service, configured from the settings, in start order."""
    from infra.stack.cassandra import Cassandra
    from infra.stack.elasticsearch import Elasticsearch
    from infra.stack.kafka import Kafka
    from infra.stack.mariadb import MariaDB
    from infra.stack.mongo import FerretDB
    from infra.stack.redis import Redis
    from infra.stack.seaweedfs import SeaweedFS
    from infra.stack.spark import Spark

    return [
        Kafka(port=settings.kafka_port, controller_port=settings.kafka_controller_port, heap=settings.kafka_heap),
        Elasticsearch(port=settings.elasticsearch_port, heap=settings.elasticsearch_heap),
        FerretDB(port=settings.mongo_port),
        MariaDB(port=settings.mysql_port, user=settings.mysql_user,
                password=settings.mysql_password.get_secret_value(), database=settings.mysql_database),
        Redis(port=settings.redis_port),
        Cassandra(port=settings.cassandra_port, heap=settings.cassandra_heap),
        SeaweedFS(port=settings.s3_port, access_key=settings.s3_access_key,
                  secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else ""),
        Spark(),
    ]
