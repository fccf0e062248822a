"""Persistence: SQLAlchemy models, Alembic migrations, and the functions that read and write them.

SQLite is the embedded default (a file, WAL mode, foreign keys on); PostgreSQL is used when
``CORRIDOR_DATABASE_URL`` says so. The same code and the same migrations serve both.
"""

# Tables kept in their own modules register on Base.metadata when imported.
from corridor.store import accounts_tables, customs_tables  # noqa: F401
from corridor.store.db import Database

__all__ = ["Database"]
