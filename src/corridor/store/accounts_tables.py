"""Tables of account hardening: disabled users and the login throttle counters.

They live in the database, not in process memory, so that every worker of a scaled-out service
sees the same lock-outs and counters (a per-process dict would multiply the limit by the worker
count and forget it at each restart).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base


class DisabledUser(Base):
    """A user who may no longer log in or use any token; deleting the row enables them again."""

    __tablename__ = "disabled_users"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    disabled_at: Mapped[datetime]
    disabled_by: Mapped[str | None] = mapped_column(String(64))  # the admin's user id (None: CLI)


class LoginThrottle(Base):
    """Login attempts per key (an account or a client address) in a fixed window.

    ``count`` is raised by one atomic upsert per attempt, so concurrent attempts from any number
    of workers are all counted; it restarts at 1 when ``window_start`` is older than the window.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
