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
    database file's mode. Safe to call again while the database is open (``create_app`` does):
    an existing database file is only chmod-ed, never opened (see :func:`create_owner_only`).
    """
    var_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(var_dir, DIR_MODE)
    path = sqlite_path(database_url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    create_owner_only(path)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            os.chmod(candidate, FILE_MODE)


def create_owner_only(path: Path) -> None:
    """Create ``path`` empty and 0600 when it does not exist yet; leave an existing file alone.

    Never opens a file that exists. A POSIX record lock belongs to the process, and closing *any*
    descriptor of a file drops every lock the process holds on it. In WAL mode each SQLite
    connection keeps a shared lock on the database file for as long as it is open, and a process
    that closes its last connection checks for those locks to learn whether it is the last user:
    if it finds none, it checkpoints and deletes the -wal and -shm files. Opening and closing the
    database file here while this process had it open (``os.close(os.open(path, ...))``) dropped
    its locks unseen, so the next ``corridor track consume`` or CLI command to exit deleted the
    WAL under the server: the server went on committing into a deleted file that no other process
    would ever read, and readers saw "database disk image is malformed". ``O_EXCL`` creates a new
    file or fails; it never gives a descriptor of a file that SQLite may have open.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
