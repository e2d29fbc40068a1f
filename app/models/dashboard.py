"""看板会话 / a signed-in browser: the session a token was exchanged for on the pages.

Only a SHA-256 hash of the session id is kept (as for tokens); the CSRF token every POST
form carries is per session. An uploaded spreadsheet waits on the session between its dry
run and the button that applies it.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class DashboardSession(SQLModel, table=True):
    __tablename__ = "dashboard_sessions"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=64)
    token_id: int = Field(foreign_key="api_tokens.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    upload_unit: str | None = Field(default=None, max_length=32)
    upload_domain: str | None = Field(default=None, max_length=3)
    upload_name: str | None = Field(default=None, max_length=255)
    upload_data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
