"""依申请公开台账 / the request register: applications for disclosure and their events.

No applicant identity is kept: the applicant type (the annual report's column) and the
office's own reference number only. The derived columns (state, due date, on time…) are
rewritten from the events on every write, so queries can filter on them; `received_year`,
`closed_year` and `report_row` too, so that table 三 is one grouped read of an index.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict
from sqlalchemy import Column, Index, Integer, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, string_enum, utcnow

Channel = Literal["当面", "邮寄", "网络", "传真", "其他"]
"""第31条: how the application arrived (it decides which day counts as receipt)."""
CHANNELS: tuple[str, ...] = ("当面", "邮寄", "网络", "传真", "其他")


class ApplicantType(StrEnum):
    """申请人情况: the columns of the annual report's table 三."""

    natural = "natural"
    """自然人"""
    business = "business"
    """商业企业"""
    research = "research"
    """科研机构"""
    nonprofit = "nonprofit"
    """社会公益组织"""
    legal = "legal"
    """法律服务机构"""
    other_org = "other_org"
    """其他 (法人或其他组织)"""


APPLICANT_LABELS: dict[str, str] = {
    "natural": "自然人",
    "business": "商业企业",
    "research": "科研机构",
    "nonprofit": "社会公益组织",
    "legal": "法律服务机构",
    "other_org": "其他",
}


class RequestState(StrEnum):
    open = "open"
    awaiting_correction = "awaiting_correction"
    paused = "paused"
    answered = "answered"
    withdrawn = "withdrawn"


class Outcome(StrEnum):
    """处理结果: the outcome rows of table 三 (三(一) … 三(六))."""

    granted = "granted"
    partial = "partial"
    refused_secret = "refused_secret"
    refused_law = "refused_law"
    refused_safety = "refused_safety"
    refused_third_party = "refused_third_party"
    refused_internal = "refused_internal"
    refused_process = "refused_process"
    refused_enforcement = "refused_enforcement"
    refused_inquiry = "refused_inquiry"
    unable_not_held = "unable_not_held"
    unable_needs_making = "unable_needs_making"
    unable_unclear = "unable_unclear"
    ignored_petition = "ignored_petition"
    ignored_repeat = "ignored_repeat"
    ignored_publication = "ignored_publication"
    ignored_excessive = "ignored_excessive"
    ignored_confirm = "ignored_confirm"
    other = "other"
    other_no_correction = "other_no_correction"
    other_no_fee = "other_no_fee"
    other_misc = "other_misc"


OUTCOME_LABELS: dict[str, str] = {
    "granted": "予以公开",
    "partial": "部分公开",
    "refused_secret": "不予公开-属于国家秘密",
    "refused_law": "不予公开-其他法律行政法规禁止公开",
    "refused_safety": "不予公开-危及“三安全一稳定”",
    "refused_third_party": "不予公开-保护第三方合法权益",
    "refused_internal": "不予公开-属于三类内部事务信息",
    "refused_process": "不予公开-属于四类过程性信息",
    "refused_enforcement": "不予公开-属于行政执法案卷",
    "refused_inquiry": "不予公开-属于行政查询事项",
    "unable_not_held": "无法提供-本机关不掌握相关政府信息",
    "unable_needs_making": "无法提供-没有现成信息需要另行制作",
    "unable_unclear": "无法提供-补正后申请内容仍不明确",
    "ignored_petition": "不予处理-信访举报投诉类申请",
    "ignored_repeat": "不予处理-重复申请",
    "ignored_publication": "不予处理-要求提供公开出版物",
    "ignored_excessive": "不予处理-无正当理由大量反复申请",
    "ignored_confirm": "不予处理-要求行政机关确认或重新出具已获取信息",
    "other": "其他处理",
    "other_no_correction": "其他处理-申请人无正当理由逾期不补正",
    "other_no_fee": "其他处理-申请人逾期未按收费通知要求缴纳费用",
    "other_misc": "其他处理-其他",
}


class EventKind(StrEnum):
    correction_requested = "correction_requested"
    correction_received = "correction_received"
    correction_expired = "correction_expired"
    extended = "extended"
    consultation_started = "consultation_started"
    consultation_ended = "consultation_ended"
    answered = "answered"
    withdrawn = "withdrawn"


class Party(StrEnum):
    third_party = "third_party"
    """第三方 (第32条)"""
    agency = "agency"
    """其他行政机关 (第34条)"""


def _no_controls(value: str) -> str:
    """Control characters break every rendering (and PostgreSQL refuses NUL)."""
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in value):
        raise ValueError("含有控制字符 / contains control characters")
    return value


Text = Annotated[NonBlank, AfterValidator(_no_controls)]


class RequestBase(SQLModel):
    received_on: date = Field(description="第31条: the legally effective day of receipt")
    applicant_type: ApplicantType = Field(
        sa_type=string_enum(ApplicantType), description="申请人情况: a column of table 三"
    )
    summary: Text = Field(max_length=500, description="内容摘要 (never logged in clear)")
    reference: str | None = Field(
        default=None, max_length=64, description="the office's own reference number (受理编号)"
    )


class DisclosureRequest(RequestBase, table=True):
    """政府信息公开申请 / one application for disclosure a unit received."""

    __tablename__ = "disclosure_requests"
    __table_args__ = (
        Index("ix_disclosure_requests_unit_received", "unit_code", "received_on"),
        Index("ix_disclosure_requests_unit_closed", "unit_code", "closed_on"),
        # Table 三 reads only this index, already in its GROUP BY order (services.requests).
        Index(
            "ix_disclosure_requests_table_three",
            "unit_code",
            "received_year",
            "closed_year",
            "applicant_type",
            "report_row",
        ),
        UniqueConstraint("unit_code", "reference", name="uq_disclosure_requests_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="units.code", max_length=32)
    channel: str = Field(max_length=10, description="第31条: 当面, 邮寄, 网络, 传真 or 其他")
    state: RequestState = Field(default=RequestState.open, sa_type=string_enum(RequestState))
    clock_start: date | None = None
    due_on: date | None = None
    paused_until: date | None = None
    extended_days: int = 0
    late_notice: bool | None = False
    outcome: Outcome | None = Field(default=None, sa_type=string_enum(Outcome))
    answered_on: date | None = None
    closed_on: date | None = None
    on_time: bool | None = None
    note: str | None = Field(default=None, max_length=500)
    received_year: int = Field(description="the year of received_on (table 三)")
    closed_year: int | None = Field(
        default=None, description="the year of closed_on: answered, expired or withdrawn"
    )
    report_row: str | None = Field(
        default=None,
        max_length=20,
        description="closed: its table 三 row code under the 2021 template (2019 folds 三(六))",
    )
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class RequestCreate(RequestBase):
    """POST body: what the clerk enters on receipt; no names, no contacts."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "received_on": "2021-03-02",
                    "applicant_type": "natural",
                    "summary": "申请公开某地块的征收补偿方案",
                    "channel": "网络",
                    "reference": "湖政申〔2021〕15号",
                }
            ]
        },
    )

    channel: Channel = Field(description="第31条: how it arrived: 当面, 邮寄, 网络, 传真 or 其他")
    reference: Text | None = Field(
        default=None, max_length=64, description="the office's own reference number (受理编号)"
    )


class EventBase(SQLModel):
    kind: EventKind = Field(sa_type=string_enum(EventKind), description="what happened")
    on: date = Field(description="the day it happened")
    days: int | None = Field(default=None, ge=0, le=1000, description="extended: 1..20")
    approved_by: str | None = Field(
        default=None, max_length=100, description="extended: who approved it (a post, not a name)"
    )
    party: Party | None = Field(
        default=None, sa_type=string_enum(Party), description="consulted: who (第32条, 第33条)"
    )
    outcome: Outcome | None = Field(
        default=None, sa_type=string_enum(Outcome), description="answered: the outcome"
    )


class RequestEvent(EventBase, table=True):
    __tablename__ = "disclosure_request_events"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="disclosure_requests.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)


class EventCreate(EventBase):
    """POST body of /requests/{id}/events: `kind`, `on` and the fields that kind takes."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "extended", "on": "2021-03-20", "days": 20, "approved_by": "办公室主任"}
            ]
        },
    )

    approved_by: Text | None = Field(
        default=None, max_length=100, description="extended: who approved it (a post, not a name)"
    )


class EventPublic(EventBase):
    id: int


class RequestPublic(SQLModel):
    """REQUEST: the application with its clock recomputed from its events."""

    id: int
    unit_code: str
    reference: str | None
    received_on: date
    channel: Channel
    applicant_type: ApplicantType
    summary: str
    state: RequestState
    clock_start: date | None = Field(description="the day the 20 working days run from")
    due_on: date | None
    days_left: int | None = Field(description="working days left; negative when overdue")
    extended_days: int
    late_notice: bool | None = Field(description="the correction notice came after 7 working days")
    paused_until: date | None = Field(description="while paused: the day the pause ends by itself")
    outcome: Outcome | None
    answered_on: date | None
    on_time: bool | None
    note: str | None
    events: list[EventPublic]


Template = Literal["2019", "2021"]
TableThree = dict[str, dict[str, int]]


class TableThreePublic(SQLModel):
    """Table 三 counted from the register, in the annual report's `requests` shape."""

    unit_code: str
    year: int
    template: Template
    units: list[str] = Field(description="the units counted (more than one with rollup=true)")
    requests: TableThree = Field(description="{ROW: {COLUMN: int}}, the annual-report codes")


class OverdueRequest(SQLModel):
    id: int
    reference: str | None
    received_on: date
    due_on: date | None
    days_overdue: int = Field(description="working days since the due date")
    state: RequestState


class RequestAuditRow(SQLModel):
    unit_code: str
    unit_name: str
    open: int = Field(description="received and not closed as of as_of")
    due_within_5: int = Field(description="open, due within 5 working days (not yet overdue)")
    overdue: int
    answered_late: int = Field(description="answered after the due date, in the year of as_of")
    overdue_requests: list[OverdueRequest]


class RequestAuditReport(SQLModel):
    as_of: date
    district: str | None
    units: list[RequestAuditRow]
    next_offset: int | None = Field(description="offset of the next page of units, or null")


class RequestImportRow(SQLModel):
    """An application the import would register (or did), from one row of the 台账."""

    row: int
    received_on: date
    channel: Channel
    applicant_type: ApplicantType
    summary: str
    reference: str | None
    answered_on: date | None
    outcome: Outcome | None
    withdrawn: bool


class RequestImportNote(SQLModel):
    """One problem: the 1-based row (0 = the file or its header), the column and the rule."""

    row: int
    field: str
    msg: str


class RequestImportReport(SQLModel):
    """rows: data rows read; created: applications registered (a dry run: would be)."""

    filename: str
    dry_run: bool
    applied: bool
    rows: int
    created: int
    errors: list[RequestImportNote]
    warnings: list[RequestImportNote]
    ignored_columns: list[str]
    preview: list[RequestImportRow]


class RequestImportRejected(RequestImportReport):
    """422: the report, plus the errors in the validation shape (loc ["file", row, field])."""

    detail: list[dict[str, Any]]
