"""公开记录 / disclosure records: what a website actually published under a catalogue item."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as Input
from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.common import MAX_ID, HttpUrl, string_enum, utcnow

MAX_RECORDS = 1000
"""Records one POST may carry."""

LATE_ALIVE = "state = 'late' AND deleted_at IS NULL"
"""The live late records (a partial index's condition; queries repeat it word for word)."""


class RecordState(StrEnum):
    """时效 / whether a record met its item's time limit."""

    on_time = "on_time"
    late = "late"
    no_limit = "no_limit"
    unknown = "unknown"


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


# The two bodies of a push are pydantic's BaseModel, not SQLModel: a SQLModel validates
# each nested model a second time through its own __init__, a third of the cost of
# validating 1,000 records (the JSON schema is the same).


class RecordIn(BaseModel):
    """One record as a CMS sends it; (unit, url) identifies it."""

    model_config = ConfigDict(extra="forbid")

    item_id: int = Input(ge=1, le=MAX_ID, description="the catalogue item (its `id`)")
    title: Title = Input(description="the record's title as published")
    url: HttpUrl = Input(description="where it is published; (unit, url) identifies it")
    formed_on: date = Input(description="信息形成或变更之日 / the day the information was formed")
    published_on: date = Input(description="发布日期 / the day it was published")


class RecordBatch(BaseModel):
    """Records a CMS reports, stored all or nothing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "records": [
                        {
                            "item_id": 17,
                            "title": "湖里区2021年度国土空间规划公示",
                            "url": "http://www.huli.gov.cn/xxgk/ghjh/202103/t20210310_1.htm",
                            "formed_on": "2021-03-01",
                            "published_on": "2021-03-10",
                        }
                    ]
                }
            ]
        },
    )

    records: list[RecordIn] = Input(
        min_length=1, max_length=MAX_RECORDS, description="one entry per record"
    )


class Record(SQLModel, table=True):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("unit_code", "url"),
        # the timeliness audit and the public column read a catalogue's records per item
        Index(
            "ix_records_catalogue_item",
            "catalogue_id",
            "item_id",
            "published_on",
            "state",
            "formed_on",
            "deleted_at",
        ),
        Index("ix_records_unit_id", "unit_code", "id"),
        Index("ix_records_catalogue_seq", "catalogue_id", "seq"),
        # the timeliness audit lists a catalogue's late records
        Index(
            "ix_records_late",
            "catalogue_id",
            "id",
            sqlite_where=text(LATE_ALIVE),
            postgresql_where=text(LATE_ALIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="units.code", max_length=32)
    catalogue_id: int = Field(foreign_key="catalogues.id", ondelete="CASCADE")
    domain_code: str = Field(max_length=3)
    # No foreign key: a deleted item's records stay readable and say the item is gone.
    item_id: int
    title: str = Field(max_length=500)
    url: str = Field(max_length=1000)
    formed_on: date
    published_on: date
    due_on: date | None = None
    state: RecordState = Field(sa_type=string_enum(RecordState))
    late_days: int | None = None
    note: str | None = Field(default=None, max_length=1000)
    # 变更序号: gap-free, in commit order, new on every write (delete included), so the
    # change feed can resume after any number and a column's ETag changes with any record.
    seq: int = Field(unique=True, index=True)
    deleted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RecordStamp(SQLModel, table=True):
    """The latest change number among a catalogue's records (tombstones included): what the
    public column's ETag and the timeliness audit's memory are keyed by, one row to read."""

    __tablename__ = "record_stamps"

    catalogue_id: int = Field(
        foreign_key="catalogues.id",
        primary_key=True,
        ondelete="CASCADE",
        sa_column_kwargs={"autoincrement": False},
    )
    seq: int


class RecordCount(SQLModel, table=True):
    """Per catalogue item: its live records, by state, and the latest formed and published
    dates. Kept on every record write (services.records.recount is the definition), so the
    timeliness audit reads one small row per item instead of aggregating the records."""

    __tablename__ = "record_counts"

    catalogue_id: int = Field(
        foreign_key="catalogues.id",
        primary_key=True,
        ondelete="CASCADE",
        sa_column_kwargs={"autoincrement": False},
    )
    item_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    records: int
    on_time: int
    late: int
    unknown: int
    last_formed_on: date
    last_published_on: date


class RecordPublic(SQLModel):
    """RECORD: `due_on` from the item's time limit, `state` and `late_days` against it."""

    id: int
    unit_code: str
    domain_code: str
    item_id: int
    title: str
    url: str
    formed_on: date
    published_on: date
    due_on: date | None
    state: RecordState
    late_days: int | None
    note: str | None = Field(description="why the state is unknown or has no limit")
    item_gone: bool = Field(description="the item was deleted; the record stays readable")


class RecordsWritten(SQLModel):
    created: int
    updated: int
    records: list[RecordPublic]


class RecordPage(SQLModel):
    """Records by id; pass `next` back as `cursor` for the next page (null: last page)."""

    items: list[RecordPublic]
    next: str | None


class PublishedRecord(SQLModel):
    id: int
    title: str
    url: str
    formed_on: date
    published_on: date
    due_on: date | None
    state: RecordState
    late_days: int | None


class RecordChange(SQLModel):
    """A record written or deleted, as the change feed lists it (its latest state)."""

    kind: Literal["record"] = "record"
    unit_code: str
    domain_code: str
    record_id: int
    item_id: int
    url: str
    deleted: bool
    changed_at: datetime
    href: str = Field(description="the public column of the record's catalogue")


class TimelinessItem(SQLModel):
    id: int
    name: str
    first_level: str


class StaleItem(TimelinessItem):
    period_start: date
    period_end: date
    due_on: date


class LateRecord(SQLModel):
    id: int
    item_id: int
    title: str
    url: str
    due_on: date | None
    published_on: date
    late_days: int | None


class TimelinessRow(SQLModel):
    unit_code: str
    unit_name: str
    domain_code: str
    version: int
    items: int
    records: int
    on_time: int
    late: int
    unknown: int
    blank: int
    stale: int
    blank_items: list[TimelinessItem]
    stale_items: list[StaleItem]
    late_records: list[LateRecord]


class TimelinessUnit(SQLModel):
    unit_code: str
    blank: int
    stale: int
    blank_or_stale: int = Field(description="items blank, stale or both, each counted once")
    flagged: bool = Field(description="5 or more blank or stale items: fails a website check")


class TimelinessReport(SQLModel):
    as_of: date
    district: str | None
    domain: str | None
    rows: list[TimelinessRow]
    units: list[TimelinessUnit]
    next_offset: int | None = Field(description="pass as offset for the next page of units")


def record_public(data: dict[str, Any]) -> RecordPublic:
    return RecordPublic.model_validate(data)
