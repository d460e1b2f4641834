"""The one configuration of the backend: every value comes from `SHOP_*` environment variables or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")

    # Where `shop stack` keeps data, logs and downloaded artifacts.
    stack_dir: Path = PROJECT_ROOT / ".stack"

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"

    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_port: int = 9200
    elasticsearch_heap: str = "1g"
    elasticsearch_index_prefix: str = "shop"

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_port: int = 27017
    mongo_database: str = "shop"

    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    mysql_user: str = "shop"
    mysql_password: SecretStr = SecretStr("shop")
    mysql_database: str = "shop"

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_port: int = 6379

    cassandra_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    cassandra_port: int = 9042
    cassandra_keyspace: str = "shop"
    cassandra_heap: str = "1g"

    spark_master: str = "local[2]"
    spark_driver_memory: str = "1g"

    # Stream consumers take up to this many records, or what arrived within the window, per bulk write.
    consumer_batch_size: int = 2000
    consumer_batch_seconds: float = 0.2
    # The seller feed publishes in chunks of this many records and refuses requests larger than the limit.
    feed_chunk_records: int = 1000
    feed_max_records: int = 200_000
    search_max_page_size: int = 100
    # Analytics events (`search.performed`) are batched this long: Kafka's cost per event falls with the batch size.
    analytics_linger_ms: int = 100
    # How long a search may keep using a pincode's deliverability after `shop logistics load` changed it.
    search_deliverability_cache_seconds: float = 5.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1  # processes of `shop serve`; each holds its own connection pools
    api_access_log: bool = False  # a log line per request costs about as much as a cheap request

    # Secrets: no production default; `./shop` writes development values into `.env` on first use.
    admin_key: SecretStr | None = None
    jwt_secret: SecretStr | None = None
    payment_webhook_secret: SecretStr | None = None
    payment_window_seconds: int = 300
    # A payment that succeeds after its order timed out: `reinstate` re-reserves and places a new order when stock is
    # still there (else refunds); `refund` always records a refund.
    late_payment_policy: Literal["reinstate", "refund"] = "reinstate"
    # The durable sweeper cancels CREATED orders past their deadline even when Redis' expiry event is late or lost.
    expiry_sweep_seconds: float = 0.25
    expiry_sweep_batch: int = 500
    access_token_minutes: int = 60
    profile_cache_seconds: int = 300
    # Notifications: comma-separated channels (`email`, `log`) and the SMTP server the e-mail channel sends through.
    # `log` by default, since the local stack has no SMTP server; set `email,log` where one listens at smtp_host:port.
    notification_channels: str = "log"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "orders@shop.localhost"

    @property
    def mysql_url(self) -> str:
        password = self.mysql_password.get_secret_value()
        return f"mysql+asyncmy://{self.mysql_user}:{password}@{self.mysql_host}:{self.mysql_port}/{self.mysql_database}"

    @property
    def mysql_root_url(self) -> str:
        """Used once by bootstrap to create the database and the application user (root authenticates by socket-less empty password locally)."""
        return f"mysql+asyncmy://root@{self.mysql_host}:{self.mysql_port}/"


@lru_cache
def get_settings() -> Settings:
    return Settings()
