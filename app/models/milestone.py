"""节点 / milestones (dated obligations) and 落实意见 (implementation opinions)."""

from datetime import date, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"

    code: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    due_on: date
    event: str = Field(max_length=20, description="opinion | compiled | published")
    unit_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    domains: str = Field(default="pilot", max_length=10, description="pilot | all")
    position: int = 0


class Opinion(SQLModel, table=True):
    __tablename__ = "opinions"

    id: int | None = Field(default=None, primary_key=True)
    domain_code: str = Field(foreign_key="domains.code", max_length=3, index=True)
    issuer_unit_code: str = Field(foreign_key="units.code", max_length=32, index=True)
    title: str = Field(max_length=500)
    doc_number: str | None = Field(default=None, max_length=100)
    issued_on: date
    url: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
