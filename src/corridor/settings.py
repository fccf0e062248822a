"""The one place where Corridor reads its configuration.

Every setting can be given as an environment variable ``CORRIDOR_<NAME>`` (for example
``CORRIDOR_DATA_DIR=/srv/corridor/data``), so the same code runs on a laptop, in CI and in production
without edits. Defaults are chosen so that a fresh checkout works with nothing configured.
"""

from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; tests build their own ``Settings`` instead."""
    return Settings()
