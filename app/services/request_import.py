"""导入台账 / import an office's existing request register (XLSX, CSV in UTF-8 or GBK), so
it can start with its year so far: a dry run reports, a real run registers every row or none.

Columns (any order, header in the first rows): 收到日期, 渠道, 申请人类型, 内容摘要, 答复日期,
处理结果 in the annual report's table 三 wording, and optionally 编号 (the office's own
reference). Names and contacts are never read: such columns are reported as ignored.
"""

import re
from dataclasses import dataclass, field
from datetime import date

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
from app.spreadsheet import BadFile
from app.spreadsheet.files import load_sheets
from app.spreadsheet.models import Grid

HEADER_ROWS = 12
COLUMNS: dict[str, tuple[str, ...]] = {
    "received_on": ("收到日期", "收到申请日期", "申请日期", "受理日期", "收件日期"),
    "channel": ("渠道", "申请渠道", "申请方式", "提交方式"),
    "applicant_type": ("申请人类型", "申请人情况", "申请人类别"),
    "summary": ("内容摘要", "申请内容", "摘要", "申请内容摘要"),
    "answered_on": ("答复日期", "办结日期", "答复时间"),
    "outcome": ("处理结果", "答复结果", "处理情况", "办理结果"),
    "reference": ("编号", "受理编号", "申请编号", "登记编号"),
}
REQUIRED = ("received_on", "channel", "applicant_type", "summary")
LABELS = {
    "received_on": "收到日期",
    "channel": "渠道",
    "applicant_type": "申请人类型",
    "summary": "内容摘要",
    "answered_on": "答复日期",
    "outcome": "处理结果",
    "reference": "编号",
}
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
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_SPACE = re.compile(r"\s+")
_PRIVATE = re.compile(r"姓名|名称|电话|手机|地址|邮箱|证件|身份证|联系")


def _clean(text: str) -> str:
    return _SPACE.sub("", text)


def _header(grid: Grid) -> tuple[int, dict[str, int], list[str]] | None:
    """The header row (0-based), the column of each field, the labels left unread."""
    wanted = {_clean(name): key for key, names in COLUMNS.items() for name in names}
    for index, row in enumerate(grid[:HEADER_ROWS]):
        found: dict[str, int] = {}
        ignored: list[str] = []
        for position, cell in enumerate(row):
            label = _clean(cell.text)
            key = wanted.get(label)
            if key is not None and key not in found:
                found[key] = position
            elif label:
                ignored.append(cell.text.strip())
        if "received_on" in found and "summary" in found:
            return index, found, ignored
    return None


def parse_date(text: str) -> date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def outcome_of(text: str) -> str | None:
    """The table 三 row code (or `withdrawn`) a 处理结果 cell names, None if none."""
    cleaned = _clean(text)
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


def _note(row: int, key: str, zh: str, en: str) -> RequestImportNote:
    return RequestImportNote(row=row, field=key, msg=f"{zh} / {en}")


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
        if (found := _header(sheet.grid)) is not None:
            break
    else:
        report.errors.append(
            _note(
                0,
                "header",
                "找不到表头：须有“收到日期”和“内容摘要”列",
                "no header found: the columns 收到日期 and 内容摘要 are required",
            )
        )
        return reading
    start, columns, ignored = found
    report.ignored_columns = ignored
    for label in ignored:
        if _PRIVATE.search(label):
            report.warnings.append(
                _note(
                    0,
                    "header",
                    f"“{label}”列不导入：台账不保存申请人身份和联系方式",
                    f"column {label!r} is not imported: the register keeps no applicant "
                    "identity or contacts",
                )
            )
    for key in REQUIRED:
        if key not in columns:
            report.errors.append(
                _note(0, key, f"缺少“{LABELS[key]}”列", f"the column {LABELS[key]} is missing")
            )
    if report.errors:
        return reading
    references: dict[str, int] = {}
    for offset, cells in enumerate(sheet.grid[start + 1 :], start=start + 2):
        values = {
            key: cells[i].text.strip() if i < len(cells) else "" for key, i in columns.items()
        }
        if not any(values.values()):
            continue
        report.rows += 1
        row = _row(offset, values, report)
        if row is None:
            continue
        if row.reference is not None:
            if (first := references.get(row.reference)) is not None:
                report.errors.append(
                    _note(
                        offset,
                        "reference",
                        f"编号 {row.reference} 与第 {first} 行重复",
                        f"reference {row.reference} repeats row {first}",
                    )
                )
                continue
            references[row.reference] = offset
        reading.rows.append(row)
    report.created = len(reading.rows)
    report.preview = reading.rows
    return reading


def _row(
    number: int, values: dict[str, str], report: RequestImportReport
) -> RequestImportRow | None:
    errors: list[RequestImportNote] = []

    def error(key: str, zh: str, en: str) -> None:
        errors.append(_note(number, key, zh, en))

    received = parse_date(values["received_on"])
    if received is None:
        error(
            "received_on",
            f"收到日期“{values['received_on']}”无法识别",
            f"received_on {values['received_on']!r} is not a date",
        )
    channel = CHANNEL_WORDS.get(_clean(values["channel"]))
    if channel is None:
        error(
            "channel",
            f"渠道“{values['channel']}”须为{'、'.join(CHANNELS)}之一",
            f"channel {values['channel']!r} must be one of {', '.join(CHANNELS)}",
        )
    applicant = APPLICANT_WORDS.get(_clean(values["applicant_type"]))
    if applicant is None:
        error(
            "applicant_type",
            f"申请人类型“{values['applicant_type']}”须为表三的申请人情况之一（自然人、商业企业、"
            "科研机构、社会公益组织、法律服务机构、其他）",
            f"applicant type {values['applicant_type']!r} must be a table 三 column",
        )
    summary = values["summary"]
    if not summary:
        error("summary", "内容摘要不能为空", "the summary is required")
    elif len(summary) > 500:
        error("summary", "内容摘要超过500字", "the summary is over 500 characters")
    answered = None
    if values.get("answered_on"):
        answered = parse_date(values["answered_on"])
        if answered is None:
            error(
                "answered_on",
                f"答复日期“{values['answered_on']}”无法识别",
                f"answered_on {values['answered_on']!r} is not a date",
            )
    outcome = None
    if values.get("outcome"):
        outcome = outcome_of(values["outcome"])
        if outcome is None:
            error(
                "outcome",
                f"处理结果“{values['outcome']}”不是表三的处理结果",
                f"outcome {values['outcome']!r} is not a table 三 outcome",
            )
    if answered is not None and outcome is None and not errors:
        error("outcome", "有答复日期时须填写处理结果", "an answered row needs its outcome")
    if outcome is not None and values.get("answered_on", "") == "":
        error("answered_on", "有处理结果时须填写答复日期", "a row with an outcome needs its date")
    reference = values.get("reference") or None
    if reference is not None and len(reference) > 64:
        error("reference", "编号超过64字", "the reference is over 64 characters")
    if errors:
        report.errors.extend(errors)
        return None
    assert received is not None
    assert channel is not None
    assert applicant is not None
    row = RequestImportRow(
        row=number,
        received_on=received,
        channel=channel,  # type: ignore[arg-type]
        applicant_type=applicant,  # type: ignore[arg-type]
        summary=summary,
        reference=reference,
        answered_on=answered,
        outcome=None if outcome in (None, "withdrawn") else outcome,  # type: ignore[arg-type]
        withdrawn=outcome == "withdrawn",
    )
    return row


def _events(row: RequestImportRow) -> list[EventCreate]:
    if row.answered_on is None:
        return []
    if row.withdrawn:
        return [EventCreate(kind="withdrawn", on=row.answered_on)]  # type: ignore[arg-type]
    return [EventCreate(kind="answered", on=row.answered_on, outcome=row.outcome)]  # type: ignore[arg-type]


def _check_with_register(session: Session, unit: Unit, reading: Reading) -> None:
    """The rules that need the calendar and the register: the sequence, taken references."""
    report = reading.report
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
            report.errors.append(
                _note(
                    row.row,
                    "reference",
                    f"编号 {row.reference} 已在台账中",
                    f"reference {row.reference} is already in the register",
                )
            )
            continue
        events = [requests.clock_event(e) for e in _events(row)]
        try:
            request_clock.replay(row.received_on, events, calendar)
        except SequenceError as error:
            report.errors.append(_note(row.row, "answered_on", *error.message.split(" / ", 1)))
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
        raise imports._file_error(exc) from exc
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
