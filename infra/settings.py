"""The one configuration of the backend: every value comes from `SHOP_*` environment variables or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_LENGTH = 32  # 256 bits of hex for HS256 and HMAC-SHA256 keys (RFC 7518 3.2), 128 for the admin key
SECRETS = {"admin_key": "SHOP_ADMIN_KEY", "jwt_secret": "SHOP_JWT_SECRET",
           "payment_webhook_secret": "SHOP_PAYMENT_WEBHOOK_SECRET"}


class UnsafeSettings(RuntimeError):
    """Settings a process must not start with. Not a ValueError, so pydantic does not echo the input (the secrets)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")

    # `development` (the local stack: `./shop` writes it into a new `.env`) or `production`, the default: outside
    # development every secret must be set and long, and development-only features (the payment simulator) refuse.
    environment: Literal["development", "production"] = "production"

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
    # ONE on the local single node; LOCAL_QUORUM where a data centre has three replicas.
    cassandra_write_consistency: Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"] = "ONE"
    cassandra_read_consistency: Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"] = "ONE"

    # The order archive: DELIVERED and CANCELLED orders unchanged for `archive_after` (a duration: 30d, 12h, or
    # seconds; 0 = all finished orders) move from MySQL to Cassandra, `archive_batch` per MySQL transaction, every
    # `archive_interval` seconds inside `shop worker` (0 turns the schedule off; `shop archive` runs it by hand).
    archive_after: str = Field(default="30d", pattern=r"^\s*\d+\s*[smhdw]?\s*$")
    archive_interval: float = Field(default=3600, ge=0)
    archive_batch: int = Field(default=500, ge=1, le=5000)

    spark_master: str = "local[2]"
    spark_driver_memory: str = "1g"

    # The event lake (`shop lake`): Delta tables under this root, a folder (default: `<stack_dir>/lake`) or an
    # s3a:// URI; the streaming job's micro-batch every `lake_trigger_seconds`, at most this many Kafka records each.
    lake_root: str = ""
    lake_trigger_seconds: float = Field(default=5.0, gt=0)
    lake_max_offsets_per_trigger: int = Field(default=200_000, ge=1)
    # Where a new lake starts reading Kafka: `earliest` (everything the topics still hold), `latest`, or Spark's JSON
    # of offsets per topic and partition. A lake with a checkpoint always resumes from it.
    lake_starting_offsets: str = "earliest"
    # `shop lake` snapshots the dimensions (items, warehouses) into the lake at start and this often (0: never; the
    # dimensions are then what `shop lake dimensions` last wrote).
    lake_dimensions_seconds: float = Field(default=600, ge=0)
    # Redis keys of the streaming reports start with this (tests give each lake its own).
    reports_prefix: str = "reports"

    # Recommendations (`shop recommend train`): what each kind of interaction weighs (ordered > carted > wished > searched-and-clicked), halved for every
    # `recommend_half_life_days` of age; a retired model's rows are kept `recommend_grace_seconds` for readers that
    # still hold it, then dropped by the next run.
    recommend_weight_ordered: float = Field(default=4.0, gt=0)
    recommend_weight_carted: float = Field(default=2.0, gt=0)
    recommend_weight_wished: float = Field(default=1.5, gt=0)
    recommend_weight_searched: float = Field(default=0.5, gt=0)
    recommend_half_life_days: float = Field(default=90, gt=0)
    recommend_grace_seconds: float = Field(default=3600, ge=0)

    # The stack's S3-compatible object store (SeaweedFS's S3 gateway), for a lake at `s3a://<s3_lake_bucket>/...`;
    # `shop stack bootstrap` creates the bucket. The secret has no default: `./shop` writes a development one into
    # `.env`; outside development an s3a:// lake root refuses to start without it.
    s3_port: int = 8333
    s3_endpoint: str = "http://127.0.0.1:8333"
    s3_access_key: str = "shop"
    s3_secret_key: SecretStr | None = None
    s3_lake_bucket: str = "shop-lake"

    # Stream consumers take up to this many records, or what arrived within the window, per bulk write.
    consumer_batch_size: int = 2000
    consumer_batch_seconds: float = 0.2
    # The seller feed publishes in chunks of this many records and refuses requests larger than the limit.
    feed_chunk_records: int = 1000
    feed_max_records: int = 200_000
    search_max_page_size: int = 100
    # What one search may ask for: every facet's aggregation repeats every other filter, so these bound the request
    # Elasticsearch gets (a 422 names the limit passed).
    search_max_query_length: int = 200
    search_max_attribute_filters: int = 10  # attr.<name> names
    search_max_filter_values: int = 20  # values of one category / brand / attr.<name> filter
    search_max_facets: int = 10  # attribute names in `facets`
    search_max_attribute_name_length: int = 64
    search_max_filter_value_length: int = 100
    # Analytics events (`search.performed`) are batched this long: Kafka's cost per event falls with the batch size.
    analytics_linger_ms: int = 100
    # How long a search may keep using a pincode's deliverability after `shop logistics load` changed it.
    search_deliverability_cache_seconds: float = 5.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1  # processes of `shop serve`; each holds its own connection pools
    api_access_log: bool = False  # a log line per request costs about as much as a cheap request
    # Allocations between two collections of the youngest generation in an API process (Python's default: 700); the
    # objects alive at start-up are frozen out of collection. 0 leaves the collector as Python sets it.
    api_gc_young_threshold: int = Field(default=50_000, ge=0)
    # Request bodies over this many bytes get 413; the seller feed streams records (each capped, counted against
    # `feed_max_records`) and has its own, larger, limit.
    api_max_body_bytes: int = Field(default=1 << 20, ge=1)
    feed_max_body_bytes: int = Field(default=1 << 30, ge=1)
    # Argon2 (64 MiB and tens of ms of a core per hash) at once per API process, and callers allowed to wait for a
    # slot; beyond those, sign-up, login and password change answer 429 `busy` with Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1)
    password_hash_queue: int = Field(default=8, ge=0)
    # Fixed windows in Redis, shared by every API process: sign-ups and logins per client address, logins per e-mail.
    auth_rate_window_seconds: int = Field(default=60, ge=1)
    auth_attempts_per_address: int = Field(default=30, ge=1)
    login_attempts_per_email: int = Field(default=10, ge=1)

    # Secrets: no production default; `./shop` writes development values into `.env` on first use.
    admin_key: SecretStr | None = None
    jwt_secret: SecretStr | None = None
    payment_webhook_secret: SecretStr | None = None
    # The simulated payment gateway: `POST /v1/payments/simulator/{order_id}` and a `pay_url` to it on every order.
    # Any shopper can mark their own order paid with it, so it exists only in development and only when switched on.
    payment_simulator: bool = False
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

    @model_validator(mode="after")
    def _safe_to_start(self) -> Settings:
        self.refuse_unsafe()
        return self

    def refuse_unsafe(self) -> None:
        """Raises UnsafeSettings naming what is unsafe: short or missing secrets outside development (the S3 secret when
        the lake is on S3), the payment simulator outside development or without a secret to sign with."""
        problems = []
        if self.environment != "development":
            problems += [f"{variable} must be set and at least {MIN_SECRET_LENGTH} characters long"
                         for field, variable in SECRETS.items() if len(_revealed(getattr(self, field))) < MIN_SECRET_LENGTH]
            if self.payment_simulator:
                problems.append("SHOP_PAYMENT_SIMULATOR lets shoppers pay their own orders: only with "
                                "SHOP_ENVIRONMENT=development")
            if self.lake_root.startswith("s3a://") and not _revealed(self.s3_secret_key):
                problems.append("SHOP_S3_SECRET_KEY must be set for an s3a:// SHOP_LAKE_ROOT")
        elif self.payment_simulator and not _revealed(self.payment_webhook_secret):
            problems.append("SHOP_PAYMENT_SIMULATOR signs its answers with SHOP_PAYMENT_WEBHOOK_SECRET: set it")
        if problems:
            raise UnsafeSettings(f"refusing to start (SHOP_ENVIRONMENT={self.environment}): " + "; ".join(problems))

    @property
    def mysql_url(self) -> str:
        password = self.mysql_password.get_secret_value()
        return f"mysql+asyncmy://{self.mysql_user}:{password}@{self.mysql_host}:{self.mysql_port}/{self.mysql_database}"

    @property
    def mysql_root_url(self) -> str:
        """Used once by bootstrap to create the database and the application user (root authenticates by socket-less empty password locally)."""
        return f"mysql+asyncmy://root@{self.mysql_host}:{self.mysql_port}/"


def _revealed(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


@lru_cache
def get_settings() -> Settings:
    return Settings()
