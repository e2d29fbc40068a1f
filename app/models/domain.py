"""领域 / the pilot domains (01..26) and the "26+N" domains added later."""

from sqlmodel import Field, SQLModel

from app.models.common import DomainCode, NonBlank


class DomainBase(SQLModel):
    name: NonBlank = Field(max_length=100, unique=True)
    is_pilot: bool = False
    ministry: str | None = Field(default=None, max_length=200)


class Domain(DomainBase, table=True):
    __tablename__ = "domains"

    code: str = Field(primary_key=True, max_length=3)


class DomainCreate(DomainBase):
    code: DomainCode


class DomainPublic(DomainBase):
    code: str
