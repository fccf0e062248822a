"""Response bodies about tokens and users' standing (kept apart from schemas.py, which is shared)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from corridor.api.schemas import UserOut


class TokenOut(BaseModel):
    """A bearer token as its owner or the administrator sees it: never its value."""

    id: str
    user_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    current: bool = Field(description="The token this request was made with.")


class AccountOut(UserOut):
    """A user as the administrator manages it."""

    disabled: bool
