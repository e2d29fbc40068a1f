"""单位 / units: city → district → street or town, and the domain departments."""

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, UnitCode, UnitKind, string_enum

GUIDE_LEVEL: dict[UnitKind, str] = {
    UnitKind.district: "县级",
    UnitKind.street: "乡级",
    UnitKind.town: "乡级",
}
"""公开层级 a unit's own catalogue covers: a district 县级, a street or town 乡级."""


class UnitBase(SQLModel):
    name: NonBlank = Field(max_length=100, description="单位名称 (湖里区, 湖里街道)")
    kind: UnitKind = Field(
        sa_type=string_enum(UnitKind), description="city, district, street, town or department"
    )
    parent_code: str | None = Field(
        default=None,
        foreign_key="units.code",
        max_length=32,
        description="the unit it belongs to (a street's district); none for the city",
    )


class Unit(UnitBase, table=True):
    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=32)
    parent_code: str | None = Field(
        default=None, foreign_key="units.code", max_length=32, index=True
    )


class UnitCreate(UnitBase):
    """A new unit (admin): its parent must exist."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {"code": "350206009", "name": "新设街道", "kind": "street", "parent_code": "350206"}
            ]
        }
    )

    code: UnitCode = Field(description="the unit's code (行政区划代码 or the office's own)")


class UnitPublic(UnitBase):
    code: str
