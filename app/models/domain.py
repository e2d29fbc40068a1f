"""领域 / the pilot domains (01..26) and the "26+N" domains added later."""

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from app.models.common import DomainCode, NonBlank


class DomainBase(SQLModel):
    name: NonBlank = Field(max_length=100, unique=True, description="领域名称 (城乡规划)")
    is_pilot: bool = Field(default=False, description="one of the 26 pilot domains (01..26)")
    ministry: str | None = Field(
        default=None, max_length=200, description="the ministry that issued its standard guide"
    )


class Domain(DomainBase, table=True):
    __tablename__ = "domains"

    code: str = Field(primary_key=True, max_length=3)


class DomainCreate(DomainBase):
    """A domain added later (26+N): an auditor names it and gives it the next code."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {
                    "code": "27",
                    "name": "退役军人服务",
                    "is_pilot": False,
                    "ministry": "退役军人事务部",
                }
            ]
        }
    )

    code: DomainCode = Field(description="two or three digits, unique (27, 28, …)")


class DomainPublic(DomainBase):
    code: str
