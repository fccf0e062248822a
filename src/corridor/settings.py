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
