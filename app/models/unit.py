"""单位 / units: city → district → street or town, and the domain departments."""

from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, UnitCode, UnitKind, string_enum

GUIDE_LEVEL: dict[UnitKind, str] = {
    UnitKind.district: "县级",
    UnitKind.street: "乡级",
    UnitKind.town: "乡级",
}
"""公开层级 a unit's own catalogue covers: a district 县级, a street or town 乡级."""


class UnitBase(SQLModel):
    name: NonBlank = Field(max_length=100)
    kind: UnitKind = Field(sa_type=string_enum(UnitKind))
    parent_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)


class Unit(UnitBase, table=True):
    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=32)
    parent_code: str | None = Field(
        default=None, foreign_key="units.code", max_length=32, index=True
    )


class UnitCreate(UnitBase):
    code: UnitCode


class UnitPublic(UnitBase):
    code: str
