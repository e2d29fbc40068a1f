"""导入台账 / import an office's existing request register (XLSX, CSV in UTF-8 or GBK), so
it can start with its year so far: a dry run reports, a real run registers every row or none.

Columns (any order, header in the first rows): 收到日期, 渠道, 申请人类型, 内容摘要, 答复日期,
处理结果 in the annual report's table 三 wording, and optionally 编号 (the office's own
reference). Names and contacts are never read: such columns are reported as ignored.
"""

import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.models.request import (
    CHANNELS,
    DisclosureRequest,
    EventCreate,
    RequestCreate,
    RequestImportNote,
    RequestImportReport,
    RequestImportRow,
)
from app.models.unit import Unit
from app.principal import Principal
from app.rules import request_clock
from app.rules.request_clock import SequenceError
from app.services import history, imports, requests
from app.services.calendar import work_calendar
from app.spreadsheet import BadFile, columns
from app.spreadsheet.files import load_sheets

COLUMNS: dict[str, tuple[str, ...]] = {
    "received_on": ("收到日期", "收到申请日期", "申请日期", "受理日期", "收件日期"),
    "channel": ("渠道", "申请渠道", "申请方式", "提交方式"),
    "applicant_type": ("申请人类型", "申请人情况", "申请人类别"),
    "summary": ("内容摘要", "申请内容", "摘要", "申请内容摘要"),
    "answered_on": ("答复日期", "办结日期", "答复时间"),
    "outcome": ("处理结果", "答复结果", "处理情况", "办理结果"),
    "reference": ("编号", "受理编号", "申请编号", "登记编号"),
}
NEEDED = ("received_on", "summary")
"""The columns that make a row the header."""
REQUIRED = ("received_on", "channel", "applicant_type", "summary")
LABELS = {key: names[0] for key, names in COLUMNS.items()}
CHANNEL_WORDS: dict[str, str] = {c: c for c in CHANNELS} | {
    "现场": "当面",
    "窗口": "当面",
    "信函": "邮寄",
    "邮件": "邮寄",
    "快递": "邮寄",
    "在线": "网络",
    "网上": "网络",
    "互联网": "网络",
    "网站": "网络",
    "电子邮件": "网络",
    "电子邮箱": "网络",
}
APPLICANT_WORDS: dict[str, str] = {
    "自然人": "natural",
    "个人": "natural",
    "公民": "natural",
    "商业企业": "business",
    "企业": "business",
    "科研机构": "research",
    "社会公益组织": "nonprofit",
    "法律服务机构": "legal",
    "其他": "other_org",
    "其他组织": "other_org",
    "其他法人或其他组织": "other_org",
}
# Table 三's wording, most specific first: the first keyword found in the cell decides.
OUTCOME_WORDS: tuple[tuple[str, str], ...] = (
    ("部分公开", "partial"),
    ("国家秘密", "refused_secret"),
    ("法律行政法规禁止", "refused_law"),
    ("三安全一稳定", "refused_safety"),
    ("第三方合法权益", "refused_third_party"),
    ("内部事务", "refused_internal"),
    ("过程性", "refused_process"),
    ("行政执法案卷", "refused_enforcement"),
    ("行政查询", "refused_inquiry"),
    ("不掌握", "unable_not_held"),
    ("另行制作", "unable_needs_making"),
    ("仍不明确", "unable_unclear"),
    ("信访", "ignored_petition"),
    ("重复申请", "ignored_repeat"),
    ("公开出版物", "ignored_publication"),
    ("大量反复", "ignored_excessive"),
    ("确认或重新出具", "ignored_confirm"),
    ("逾期不补正", "other_no_correction"),
    ("缴纳费用", "other_no_fee"),
    ("收费", "other_no_fee"),
    ("撤回", "withdrawn"),
    ("予以公开", "granted"),
    ("其他", "other"),
)
_PRIVATE = re.compile(r"姓名|名称|电话|手机|地址|邮箱|证件|身份证|联系")
APPLICANT_TYPES = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
"""The applicant columns of table 三, as the error names them."""


def outcome_of(text: str) -> str | None:
    """The table 三 row code (or `withdrawn`) a 处理结果 cell names, None if none."""
    cleaned = columns.clean(text)
    if cleaned in ("公开", "同意公开"):
        return "granted"
    for word, code in OUTCOME_WORDS:
        if word in cleaned:
            return code
    return None


@dataclass
class Reading:
    report: RequestImportReport
    rows: list[RequestImportRow] = field(default_factory=list)
    header: columns.Header | None = None


def _note(fault: columns.Fault) -> RequestImportNote:
    return RequestImportNote(row=fault.row, field=fault.field, msg=fault.msg)


def read(filename: str, data: bytes, *, max_bytes: int, max_rows: int) -> Reading:
    """Read and check the file without touching the database (BadFile if unreadable)."""
    sheets = load_sheets(filename, data, max_bytes=max_bytes, max_rows=max_rows)
    report = RequestImportReport(
        filename=filename,
        dry_run=True,
        applied=False,
        rows=0,
        created=0,
        errors=[],
        warnings=[],
        ignored_columns=[],
        preview=[],
    )
    reading = Reading(report)
    for sheet in sheets:
        header = columns.find_header(sheet.grid, COLUMNS, needs=NEEDED)
        if header is not None:
            break
    else:
        report.errors.append(
            RequestImportNote(
                row=0,
                field="header",
                msg=columns.no_header([LABELS["received_on"], LABELS["summary"]]),
            )
        )
        return reading
    reading.header = header
    report.ignored_columns = header.ignored
    for label in header.ignored:
        if _PRIVATE.search(label):
            report.warnings.append(
                RequestImportNote(
                    row=0,
                    field="header",
                    msg=f"“{label}”列不导入：台账不保存申请人身份和联系方式 / column {label!r} "
                    "is not imported: the register keeps no applicant identity or contacts",
                )
            )
    report.errors += [
        _note(columns.missing_column(LABELS[key], key))
        for key in REQUIRED
        if key not in header.positions
    ]
    if report.errors:
        return reading
    references: dict[str, int] = {}
    for cells in columns.data_rows(sheet.grid, header, LABELS):
        report.rows += 1
        row = _row(cells)
        report.errors += [_note(fault) for fault in cells.faults]
        if row is None:
            continue
        if row.reference is not None:
            if (first := references.get(row.reference)) is not None:
                cells.fault(
                    "reference",
                    f"编号 {row.reference} 与第 {first} 行重复",
                    f"reference {row.reference} repeats row {first}",
                )
                report.errors.append(_note(cells.faults[-1]))
                continue
            references[row.reference] = row.row
        reading.rows.append(row)
    report.created = len(reading.rows)
    report.preview = reading.rows
    return reading


def _row(cells: columns.Row) -> RequestImportRow | None:
    received = cells.date("received_on")
    channel = cells.choice("channel", CHANNEL_WORDS, one_of=CHANNELS)
    applicant = cells.choice("applicant_type", APPLICANT_WORDS, one_of=APPLICANT_TYPES)
    summary = cells.required_text("summary", limit=500)
    answered = cells.date("answered_on", required=False)
    outcome = None
    if cells.text("outcome"):
        outcome = outcome_of(cells.text("outcome"))
        if outcome is None:
            cells.unknown("outcome", "表三的处理结果", "a table 三 outcome")
    if answered is not None and outcome is None and not cells.faults:
        cells.fault("outcome", "有答复日期时须填写处理结果", "an answered row needs its outcome")
    if outcome is not None and not cells.text("answered_on"):
        cells.fault(
            "answered_on", "有处理结果时须填写答复日期", "a row with an outcome needs its date"
        )
    reference = cells.optional_text("reference", limit=64)
    if cells.faults:
        return None
    assert received is not None
    assert channel is not None
    assert applicant is not None
    assert summary is not None
    return RequestImportRow(
        row=cells.number,
        received_on=received,
        channel=channel,  # type: ignore[arg-type]
        applicant_type=applicant,  # type: ignore[arg-type]
        summary=summary,
        reference=reference,
        answered_on=answered,
        outcome=None if outcome in (None, "withdrawn") else outcome,  # type: ignore[arg-type]
        withdrawn=outcome == "withdrawn",
    )


def _events(row: RequestImportRow) -> list[EventCreate]:
    if row.answered_on is None:
        return []
    if row.withdrawn:
        return [EventCreate(kind="withdrawn", on=row.answered_on)]  # type: ignore[arg-type]
    return [EventCreate(kind="answered", on=row.answered_on, outcome=row.outcome)]  # type: ignore[arg-type]


def _check_with_register(session: Session, unit: Unit, reading: Reading) -> None:
    """The rules that need the calendar and the register: the sequence, taken references."""
    report, header = reading.report, reading.header
    assert header is not None  # read() found it, or reported errors and this is not called
    calendar = work_calendar(session)
    taken = set(
        session.exec(
            select(col(DisclosureRequest.reference)).where(
                DisclosureRequest.unit_code == unit.code,
                col(DisclosureRequest.reference).in_(
                    [r.reference for r in reading.rows if r.reference]
                ),
            )
        ).all()
    )
    kept = []
    for row in reading.rows:
        if row.reference in taken:
            fault = columns.row_fault(
                header,
                row.row,
                "reference",
                f"编号 {row.reference} 已在台账中",
                f"reference {row.reference} is already in the register",
            )
            report.errors.append(_note(fault))
            continue
        events = [requests.clock_event(e) for e in _events(row)]
        try:
            request_clock.replay(row.received_on, events, calendar)
        except SequenceError as error:
            zh, _, en = error.message.partition(" / ")
            fault = columns.row_fault(header, row.row, "answered_on", zh, en or zh)
            report.errors.append(_note(fault))
            continue
        kept.append(row)
    reading.rows = kept
    report.created = len(kept)
    report.preview = kept


def run(
    session: Session,
    unit: Unit,
    *,
    filename: str,
    data: bytes,
    dry_run: bool,
    max_bytes: int,
    max_rows: int,
    actor: Principal,
) -> RequestImportReport:
    """A dry run reports what would be registered; otherwise every row is registered in
    this transaction, or imports.ImportFailed (422) and nothing is."""
    try:
        reading = read(filename, data, max_bytes=max_bytes, max_rows=max_rows)
    except BadFile as exc:
        # The catalogue import's answers: 413, 415, or 422 for a file that is no table.
        raise imports.file_error(exc) from exc
    if not reading.report.errors:
        _check_with_register(session, unit, reading)
    report = reading.report
    if dry_run:
        return report
    report.dry_run = False
    if report.errors:
        raise imports.ImportFailed(report)
    for row in reading.rows:
        request = requests.create(
            session,
            unit,
            RequestCreate(
                received_on=row.received_on,
                channel=row.channel,
                applicant_type=row.applicant_type,
                summary=row.summary,
                reference=row.reference,
            ),
            actor=actor,
        )
        for event in _events(row):
            requests.add_event(session, request, event, actor=actor)
    history.record(
        session,
        actor,
        action="import",
        entity="request",
        unit_code=unit.code,
        note=f"导入台账“{filename}”，{report.created} 件 / imported {filename!r}: "
        f"{report.created} applications",
    )
    report.preview = []
    report.applied = True
    return report
