"""The one place where Corridor reads its configuration.

Every setting can be given as an environment variable ``CORRIDOR_<NAME>`` (for example
``CORRIDOR_DATA_DIR=/srv/corridor/data``), so the same code runs on a laptop, in CI and in production
without edits. Defaults are chosen so that a fresh checkout works with nothing configured.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The corridor dataset shipped inside the package (human-editable CSV plus generated geometry).
PACKAGE_DATA_DIR = Path(__file__).parent / "data"


class Settings(BaseSettings):
    """Corridor settings; see the module docstring for how to override them."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_", extra="ignore")

    network_dir: Path = Field(
        default=PACKAGE_DATA_DIR,
        description="Directory of the network dataset (nodes.csv, links.csv, ...).",
    )
    var_dir: Path = Field(
        default=Path("var"),
        description="Directory for files the platform writes (databases, exports, artifacts).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@127.0.0.1:5432/corridor. "
        "Default: an SQLite file var_dir/corridor.db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `corridor serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `corridor serve` listens on.")
    token_ttl_hours: float = Field(
        default=12.0, gt=0, description="Lifetime of a login token (API tokens set their own)."
    )

    @property
    def keys_dir(self) -> Path:
        """Where the Ed25519 private keys of the customs authorities and the platform live."""
        return self.var_dir / "keys"

    webhook_backoff_s: float = Field(
        default=30.0,
        gt=0,
        description="First retry delay of a failed webhook delivery (doubles each time).",
    )
    webhook_poll_s: float = Field(
        default=2.0, gt=0, description="How often due webhook deliveries are sent."
    )

    epcis_max_body_mb: float = Field(
        default=64.0,
        gt=0,
        description="Largest EPCIS capture body in MB; larger ones answer 413 before being read in full.",
    )
    epcis_max_events: int = Field(
        default=100_000,
        ge=1,
        description="Most events per captured EPCIS document (GS1-EPCIS-Capture-Limit).",
    )
    epcis_process_mb: float = Field(
        default=4.0,
        ge=0,
        description="EPCIS documents larger than this (MB) are parsed, validated and stored in a "
        "separate process, so a large capture never holds the server's interpreter lock.",
    )
    epcis_inline_mb: float = Field(
        default=1.0,
        ge=0,
        description="EPCIS documents up to this size (MB) are captured at once in the request's "
        "worker thread (events, capture record and job row in one transaction: 202, finished); "
        "larger ones, and any sent with 'Prefer: respond-async', run as queued jobs. 0: every "
        "capture is a queued job. A process with jobs_interactive_threads = 0 queues every "
        "capture; otherwise that many captures run at once per process.",
    )
    epcis_capture_wait_s: float = Field(
        default=10.0,
        ge=0,
        le=120,
        description="POST /capture runs as a job; the answer waits this long for it (without "
        "holding a thread) and then shows it finished, or running (202, poll its Location). "
        "A client sending 'Prefer: respond-async' never waits.",
    )
    epcis_max_depth: int = Field(
        default=64, ge=8, le=500, description="Deepest JSON nesting accepted in an EPCIS capture."
    )
    webhook_allow_nets: list[str] = Field(
        default_factory=list,
        description="Internal networks webhooks may target (e.g. 10.0.0.0/8); loopback, private and "
        "link-local targets are refused unless listed here.",
    )
    webhook_quota: int = Field(default=20, ge=0, description="Most webhooks per organisation.")
    subscription_quota: int = Field(
        default=20, ge=0, description="Most EPCIS query subscriptions per organisation."
    )
    alert_debounce_s: float = Field(
        default=60.0, ge=0, description="A shipment's ETA alert is re-evaluated at most this often."
    )
    alert_slip_h: float = Field(
        default=24.0,
        gt=0,
        description="An ETA alert is raised when the ETA slips by more than this.",
    )
    # -- route planning (corridor.routing) ------------------------------------------------------
    default_transfer_h: float = Field(
        default=6.0,
        ge=0,
        description="Handling hours when freight changes vehicle at a node without a "
        "transshipment record (estimate).",
    )
    max_plan_days: int = Field(
        default=90, ge=1, le=365, description="No plan looks further ahead than this (days)."
    )
    max_boardings: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Most vehicles a search boards (bounds the search like RAPTOR's rounds).",
    )
    teu_per_wagon: float = Field(
        default=2.0,
        gt=0,
        description="TEU a wagon carries when a schedule gives capacity in wagons (one 40-ft box "
        "on a flat wagon).",
    )
    generic_train_teu: float = Field(
        default=110.0,
        gt=0,
        description="TEU of a train on a rail link without a named service (55 FEU, source "
        "nsrd-55feu).",
    )
    generic_first_departure_h: float = Field(
        default=6.0,
        ge=0,
        lt=24,
        description="Hour (UTC) of the first train on a rail link without a named service; then "
        "every headway_h.",
    )
    pareto_epsilon: float = Field(
        default=0.005,
        ge=0,
        le=0.2,
        description="Options within this share of another's cost and CO2e (and no later) count "
        "as the same Pareto option; keeps the four-criteria search small on large networks.",
    )
    corridor_max_detour: float = Field(
        default=4.0,
        ge=1,
        description="`compare` leaves out a corridor whose gateways make the trip more than this "
        "many times the direct great-circle distance (the sea route round the Cape from Xi'an to "
        "Duisburg is 3.5x).",
    )
    red_sea_open: bool = Field(
        default=False,
        description="Whether container lines sail through the Red Sea and Suez; when false, "
        "sea services marked passage=suez are not offered (ships go round the Cape).",
    )
    rates_file: Path | None = Field(
        default=None,
        description="A rate table (CSV, see docs/routing.md) replacing the dataset's rates.csv.",
    )
    plan_cache_dir: Path | None = Field(
        default=None,
        description="Where the CLI keeps its built planner between runs (default: "
        "var_dir/plan-cache); dropped whenever the dataset changes.",
    )

    # -- concurrency and availability (docs/deploy.md explains how these fit together) ----------
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes `corridor serve` starts (uvicorn workers). Each has its own threads "
        "and database pool; on PostgreSQL keep workers x (threads + db_pool_reserve) below "
        "max_connections.",
    )
    threads: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Threads per process that run the sync endpoints (the anyio thread limiter). "
        "It is also the number of requests per process that may hold a database session at once: "
        "the database pool has this many connections plus db_pool_reserve, so a request that got "
        "its turn never waits for a connection.",
    )
    db_pool_reserve: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Database connections per process beyond `threads`, kept for /health, the "
        "background threads and a session opened inside a request.",
    )
    db_pool_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="Longest wait for a database connection before the request answers 503 "
        "with Retry-After (instead of hanging or answering 500).",
    )
    queue_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest time a request waits for its turn (one of `threads` database "
        "sessions) before it answers 503 with Retry-After.",
    )
    token_cache_s: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Seconds a process remembers who a valid API token acts for (api/identity.py): "
        "a token revoked or a user disabled through another worker or the CLI stops working "
        "within this bound (at once through the same worker). 0 looks every token up every time.",
    )
    db_retries: int = Field(
        default=3,
        ge=0,
        le=20,
        description="How often a request is run again, from the start and in a new transaction, "
        "when the database refused it without applying anything (SQLite busy, PostgreSQL "
        "deadlock or serialization failure, a connection killed before commit).",
    )
    shutdown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="On SIGTERM, how long `corridor serve` lets running requests finish before it "
        "closes them and exits.",
    )
    keep_alive_s: int = Field(
        default=30,
        ge=1,
        description="How long `corridor serve` keeps an idle client connection open; longer than "
        "the 5 s most clients wait before they close one, so the two never close it at once.",
    )
    retry_after_s: int = Field(
        default=1, ge=1, description="Retry-After (seconds) sent with every 503."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="SQLite: how long a writer waits for the write lock (BEGIN IMMEDIATE) before "
        "the request is retried.",
    )
    pg_statement_timeout_ms: int = Field(
        default=15000,
        ge=0,
        description="PostgreSQL statement_timeout set on every connection (0 = none): no query "
        "runs for ever.",
    )
    pg_idle_in_transaction_timeout_ms: int = Field(
        default=10000,
        ge=0,
        description="PostgreSQL idle_in_transaction_session_timeout set on every connection "
        "(0 = none): a transaction left open cannot hold its locks for ever.",
    )
    argon2_time_cost: int = Field(
        default=3,
        ge=1,
        description="Argon2id iterations for new password hashes (RFC 9106's second "
        "recommended option; tests lower it, verification reads the cost from each hash).",
    )
    argon2_memory_kib: int = Field(
        default=65536,
        ge=8,
        description="Argon2id memory for new password hashes, in KiB (64 MiB, RFC 9106).",
    )

    jobs_backend: Literal["auto", "sqlite", "postgres", "redis"] = Field(
        default="auto",
        description="Job queue storage: 'auto' uses the platform database's engine (huey on SQLite "
        "in var_dir/jobs.db, or on the PostgreSQL database itself); 'redis' uses jobs_redis_url.",
    )
    jobs_redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis for jobs_backend='redis'."
    )
    jobs_threads: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Job consumer threads inside each `corridor serve` process; 0 when separate "
        "`corridor worker` processes run the jobs.",
    )
    jobs_interactive_threads: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Consumer threads for short jobs a client waits for (EPCIS captures) inside "
        "each `corridor serve` process, apart from the long runs' threads; 0 when separate "
        "`corridor worker` processes run them.",
    )
    capacity_hold_ttl_min: float = Field(
        default=120.0,
        gt=0,
        le=60 * 24 * 14,
        description="Minutes a capacity hold lasts unless the line's carrier confirms it.",
    )
    capacity_alert_days: float = Field(
        default=3.0,
        gt=0,
        description="Dispatch board alert when a port's waiting stock needs more than this many "
        "days of the ferry capacity leaving it.",
    )
    queue_grace_min: float = Field(
        default=30.0,
        ge=0,
        description="Minutes after its hour an e-queue slot waits for a truck before it is a no-show.",
    )

    # -- the edge: limits every request meets before an endpoint runs (api/middleware.py) --
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest request body in bytes; a larger one is answered 413 before it is read.",
    )
    max_json_depth: int = Field(
        default=32, ge=2, le=500, description="Deepest nesting of JSON arrays and objects (400)."
    )
    max_query_params: int = Field(
        default=100, ge=1, description="Most query parameters one request may carry (422)."
    )
    dates_from_year: int = Field(
        default=1900, ge=1, description="Earliest year of any date-time a request may carry (422)."
    )
    dates_until_year: int = Field(
        default=2200, le=9998, description="Latest year of any date-time a request may carry (422)."
    )
    tls: bool = Field(
        default=False,
        description="The service is reached over HTTPS (directly or behind a TLS proxy): send HSTS.",
    )
    # -- login protection (api/auth.py) --
    login_window_s: float = Field(
        default=900.0, gt=0, description="Window over which login attempts are counted, seconds."
    )
    login_max_per_account: int = Field(
        default=10, ge=1, description="Failed logins for one e-mail address per window (then 429)."
    )
    login_max_per_address: int = Field(
        default=100, ge=1, description="Failed logins from one client address per window (429)."
    )
    login_concurrent_hashes: int = Field(
        default=2,
        ge=1,
        description="Password hashes computed at once per process (Argon2id takes 64 MiB each).",
    )
    login_hash_wait_s: float = Field(
        default=5.0, ge=0, description="How long a login waits for a free hash slot before 503."
    )

    def resolved_database_url(self) -> str:
        """The database to use: CORRIDOR_DATABASE_URL, else the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'corridor.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; tests build their own ``Settings`` instead."""
    return Settings()
