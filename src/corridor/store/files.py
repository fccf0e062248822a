"""Owner-only permissions on what the platform writes: var/ and the SQLite database.

The database holds password hashes and token digests, and var/keys the customs signing keys; on
a shared host the default umask (0022) would leave both readable by every local user.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
FILE_MODE = 0o600


def sqlite_path(database_url: str) -> Path | None:
    """The file of an SQLite URL, or None for another database or an in-memory one."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def secure(var_dir: Path, database_url: str) -> None:
    """Create var_dir 0700 (tightening an existing one) and the SQLite file and its WAL 0600.

    Called before the database is first opened, so the file is created owner-only rather than
    tightened after a window in which it was readable; SQLite gives its -wal and -shm files the
    database file's mode.
    """
    var_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(var_dir, DIR_MODE)
    path = sqlite_path(database_url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            os.chmod(candidate, FILE_MODE)
