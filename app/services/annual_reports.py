"""政府信息公开工作年度报告 / annual reports: keep, check, draft, publish, due dates, audit.

The tables and their rules live in app/rules/annual_report.py; this module stores the
working copy and its published versions, fills a draft from what the service already knows
(the request register, the catalogue statistics, last year's report), and tells the city
who has published, on time or not.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound, Stale, invalid, invalid_all
from app.models.annual_report import (
    DUE_DEFAULTS,
    AnnualReport,
    AnnualReportDueDate,
    AnnualReportPut,
    AnnualReportVersion,
    DueDateUpdate,
    ReportStatus,
)
from app.models.common import UnitKind, today_in_beijing, utcnow
from app.models.history import Change
from app.models.unit import Unit
from app.principal import Principal
from app.rules import annual_report as rules
from app.services import audit, history, milestones, paging
from app.services import requests as request_register

ENTITY = "annual_report"


def etag(report: AnnualReport) -> str:
    return f'"ar{report.id or 0}.{report.revision}"'


def version_etag(version: AnnualReportVersion, fmt: str) -> str:
    return f'"arv{version.id}.{fmt}"'


def find(session: Session, unit_code: str, year: int) -> AnnualReport | None:
    return session.exec(
        select(AnnualReport).where(AnnualReport.unit_code == unit_code, AnnualReport.year == year)
    ).first()


def tables(report: AnnualReport | AnnualReportVersion) -> rules.Report:
    return {
        "template": report.template,
        "active": report.active,
        "requests": report.requests,
        "reviews": report.reviews,
    }


def errors(report: AnnualReport | AnnualReportVersion) -> list[rules.Issue]:
    return rules.check(
        rules.TEMPLATES[report.template], report.active, report.requests, report.reviews
    )


def latest_version(session: Session, report: AnnualReport) -> AnnualReportVersion | None:
    if not report.version:
        return None
    return session.exec(
        select(AnnualReportVersion).where(
            AnnualReportVersion.report_id == report.id,
            AnnualReportVersion.number == report.version,
        )
    ).first()


def as_published(session: Session, report: AnnualReport) -> rules.Report:
    """What a report says to the next year: its latest published version, else its working
    copy."""
    version = latest_version(session, report)
    return tables(version or report)


# ---- the request register (依申请公开台账) ---------------------------------------------


def _known(table: rules.IntTable) -> rules.IntTable | None:
    """A register table, or None when the register holds nothing of the unit for the year
    (a unit that does not keep its register here is not warned against it)."""
    return table if any(v for cells in table.values() for v in cells.values()) else None


def register_table(
    session: Session, unit_code: str, year: int, template: str
) -> rules.IntTable | None:
    """Table 三 as the register counts it; None when it holds nothing for that year."""
    code = rules.TEMPLATES[template].code
    return _known(request_register.table_three(session, unit_code, year, code))


def register_tables(
    session: Session, unit_codes: Sequence[str], year: int, template: str
) -> dict[str, rules.IntTable | None]:
    """register_table for many units in one query."""
    code = rules.TEMPLATES[template].code
    tables = request_register.table_three_many(session, unit_codes, year, code)
    return {unit: _known(table) for unit, table in tables.items()}


_UNREAD: Any = object()


def warnings(
    session: Session, report: AnnualReport, register: rules.IntTable | None = _UNREAD
) -> list[rules.Issue]:
    """The report's warnings; `register` when the caller already read it."""
    last = find(session, report.unit_code, report.year - 1)
    if register is _UNREAD:
        register = register_table(session, report.unit_code, report.year, report.template)
    return rules.compare(
        tables(report),
        last_year=as_published(session, last) if last is not None else None,
        register_received=register[rules.RECEIVED][rules.TOTAL] if register else None,
    )


# ---- writes ----------------------------------------------------------------------------


def _snapshot(report: AnnualReport) -> dict[str, Any]:
    return {
        "template": report.template,
        "status": report.status,
        "active": report.active,
        "requests": report.requests,
        "reviews": report.reviews,
        "version": report.version,
    }


def _check_template(year: int, template: str) -> None:
    expected = rules.template_for(year)
    if template != expected.code:
        raise invalid(
            ("body", "template"),
            f"{year} 年度报告须用模板 {expected.code}（{expected.document}） / a report for "
            f"{year} uses the template {expected.code} ({expected.document})",
            "template_year",
        )


def _status(broken: Sequence[rules.Issue], same_as_published: bool) -> ReportStatus:
    if broken:
        return ReportStatus.draft
    return ReportStatus.published if same_as_published else ReportStatus.ready


def _insert(session: Session, report: AnnualReport) -> None:
    """Create the row; a report created meanwhile by another request is a 412, not a 500."""
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        raise Stale(
            "年度报告刚被他人创建，请读取后带 If-Match 重试 / the report was just created by "
            "someone else; read it and retry with If-Match"
        ) from None


def put(
    session: Session,
    unit: Unit,
    year: int,
    data: AnnualReportPut,
    *,
    report: AnnualReport | None,
    actor: Principal,
) -> AnnualReport:
    """Store the whole report (a cell left out is 0). A report that breaks a rule is kept as
    a draft; one that was published stays published until the correction is published."""
    _check_template(year, data.template)
    template = rules.TEMPLATES[data.template]
    before = _snapshot(report) if report is not None else None
    if report is None:
        report = AnnualReport(unit_code=unit.code, year=year, template=data.template)
    report.template = data.template
    report.active = rules.full_active(template, data.active)
    report.requests = rules.full_requests(template, data.requests)
    report.reviews = rules.full_reviews(data.reviews)
    version = latest_version(session, report) if report.id is not None else None
    same = version is not None and tables(version) == tables(report)
    report.status = _status(errors(report), same)
    after = _snapshot(report)
    if before == after:
        return report
    report.updated_at = utcnow()
    if before is None:
        _insert(session, report)
    session.add(report)
    session.flush()
    history.record(
        session,
        actor,
        action="create" if before is None else "update",
        entity=ENTITY,
        entity_id=f"{unit.code}/{year}",
        unit_code=unit.code,
        before=before,
        after=after,
    )
    session.flush()
    return report


def publish(
    session: Session,
    report: AnnualReport,
    unit: Unit,
    *,
    on: date,
    url: str,
    actor: Principal,
) -> AnnualReportVersion:
    """Freeze the working copy as the next version: 422 while any rule is broken."""
    broken = errors(report)
    if broken:
        # every broken rule, in FastAPI's shape: loc names the cell, type the rule
        raise invalid_all(
            [
                {"loc": ("body", *issue["loc"]), "msg": issue["msg"], "type": issue["rule"]}
                for issue in broken
            ]
        )
    if on <= date(report.year, 12, 31):
        raise invalid(
            ("body", "published_on"),
            f"{report.year} 年度报告须在年度结束后发布 / a report for {report.year} is published "
            "after the year ends",
            "published_in_year",
        )
    if on > today_in_beijing():
        raise invalid(
            ("body", "published_on"),
            "published_on 不能晚于今天 / published_on cannot be in the future",
            "date_in_future",
        )
    if report.status is ReportStatus.published:
        raise Conflict(
            f"第{report.version}版发布后报告没有改动 / nothing changed since version "
            f"{report.version}"
        )
    before = _snapshot(report)
    report.version += 1
    report.status = ReportStatus.published
    report.first_published_on = report.first_published_on or on
    report.updated_at = utcnow()
    assert report.id is not None
    version = AnnualReportVersion(
        report_id=report.id,
        number=report.version,
        template=report.template,
        unit_name=unit.name,
        active=report.active,
        requests=report.requests,
        reviews=report.reviews,
        published_on=on,
        url=url,
    )
    session.add(report)
    session.add(version)
    session.flush()
    history.record(
        session,
        actor,
        action="publish",
        entity=ENTITY,
        entity_id=f"{report.unit_code}/{report.year}",
        unit_code=report.unit_code,
        before=before,
        after={**_snapshot(report), "published_on": on.isoformat(), "url": url},
    )
    session.flush()
    return version


def published(
    session: Session, unit_code: str, year: int, number: int | None = None
) -> AnnualReportVersion:
    """The latest published version (or version `number`); 404 when there is none."""
    report = find(session, unit_code, year)
    version = None
    if report is not None and report.version:
        version = session.exec(
            select(AnnualReportVersion).where(
                AnnualReportVersion.report_id == report.id,
                AnnualReportVersion.number == (number or report.version),
            )
        ).first()
    if version is None:
        which = f"第{number}版" if number else "已发布的"
        raise NotFound(
            f"单位 {unit_code} 没有{which} {year} 年度报告 / unit {unit_code} has no published "
            f"report for {year}" + (f" in version {number}" if number else "")
        )
    return version


def history_of(
    session: Session, unit_code: str, year: int, *, limit: int, before_id: int | None
) -> list[Change]:
    """The report's changes, newest first; `before_id` is the cursor."""
    query = select(Change).where(Change.entity == ENTITY, Change.entity_id == f"{unit_code}/{year}")
    if before_id is not None:
        query = query.where(col(Change.id) < before_id)
    return list(session.exec(query.order_by(col(Change.id).desc()).limit(limit)))


# ---- the draft -------------------------------------------------------------------------


@dataclass
class Draft:
    template: rules.Template
    active: rules.Table
    requests: rules.IntTable
    reviews: rules.IntTable
    from_register: bool
    from_last_year: bool
    catalogue_as_of: date
    catalogue: list[dict[str, Any]]
    errors: list[rules.Issue]
    warnings: list[rules.Issue]


def _catalogue_figures(session: Session, unit: Unit, as_of: date) -> list[dict[str, Any]]:
    """The catalogue paragraph: domains, first- and second-level items per level, of the
    versions published by `as_of` (the audit's statistics). A city gets every level's
    totals, a district its own (县级) and its streets' and towns' (乡级), a street or town its
    own; a department compiles no base-level catalogue."""
    district: Unit | None = None
    if unit.kind == UnitKind.district:
        district = unit
    elif unit.kind in (UnitKind.street, UnitKind.town) and unit.parent_code:
        district = session.get(Unit, unit.parent_code)
    elif unit.kind != UnitKind.city:
        return []
    report = audit.statistics(
        session, audit.Scope(as_of=as_of, district=district), limit=100_000, offset=0
    )
    fields = ("level", "domains", "first_level_items", "second_level_items")
    if unit.kind in (UnitKind.street, UnitKind.town):
        return [
            {"units": 1} | u.model_dump(include=set(fields))
            for u in report.units
            if u.unit_code == unit.code
        ]
    wanted = unit.code if unit.kind == UnitKind.district else None
    return [
        level.model_dump(include={*fields, "units"})
        for level in report.levels
        if level.district_code == wanted
    ]


def draft(session: Session, unit: Unit, year: int) -> Draft:
    """Table 三 from the register; 二 (carried in) from last year's report's 四 (carried
    out); table 二's 上一年项目数量 from last year's figures (same template); the catalogue
    figures from the statistics as of the year's last day."""
    template = rules.template_for(year)
    register = register_table(session, unit.code, year, template.code)
    requests = rules.full_requests(template, register)
    active = rules.full_active(template, None)
    last = find(session, unit.code, year - 1)
    previous: rules.Report | None = None
    if last is not None:
        previous = as_published(session, last)
        before = rules.TEMPLATES[previous["template"]]
        requests[rules.CARRIED_IN] = dict(
            rules.full_requests(before, previous["requests"])[rules.CARRIED_OUT]
        )
        if before.code == template.code:
            old = rules.full_active(before, previous["active"])
            for row, cells in active.items():
                if "last_year" in cells:
                    cells["last_year"] = old[row]["last_year"] + old[row].get("change", 0)
    as_of = date(year, 12, 31)
    reviews = rules.full_reviews(None)
    return Draft(
        template=template,
        active=active,
        requests=requests,
        reviews=reviews,
        from_register=register is not None,
        from_last_year=last is not None,
        catalogue_as_of=as_of,
        catalogue=_catalogue_figures(session, unit, as_of),
        errors=rules.check(template, active, requests, reviews),
        warnings=rules.compare(
            {"template": template.code, "active": active, "requests": requests, "reviews": reviews},
            last_year=previous,
            register_received=register[rules.RECEIVED][rules.TOTAL] if register else None,
        ),
    )


# ---- due dates -------------------------------------------------------------------------


def due_dates(session: Session) -> dict[UnitKind, tuple[int, int, AnnualReportDueDate | None]]:
    """Every unit kind's due month and day, and its stored row (None: the default)."""
    rows = {row.unit_kind: row for row in session.exec(select(AnnualReportDueDate))}
    result: dict[UnitKind, tuple[int, int, AnnualReportDueDate | None]] = {}
    for kind, (month, day) in DUE_DEFAULTS.items():
        row = rows.get(kind.value)
        result[kind] = (row.month, row.day, row) if row else (month, day, None)
    return result


def due_etag(kind: UnitKind, month: int, day: int, row: AnnualReportDueDate | None) -> str:
    return f'"due-{kind.value}-{month:02d}{day:02d}.{row.revision if row else 0}"'


def due_on(month_day: tuple[int, int], year: int) -> date:
    return date(year + 1, *month_day)


def set_due_date(
    session: Session, kind: UnitKind, data: DueDateUpdate, *, actor: Principal
) -> AnnualReportDueDate:
    month, day = (int(part) for part in data.due.split("-"))
    row = session.get(AnnualReportDueDate, kind.value)
    old_month, old_day = (row.month, row.day) if row else DUE_DEFAULTS[kind]
    before = f"{old_month:02d}-{old_day:02d}"
    if row is None:
        row = AnnualReportDueDate(unit_kind=kind.value, month=month, day=day)
    row.month, row.day = month, day
    session.add(row)
    session.flush()
    if before != data.due:
        history.record(
            session,
            actor,
            action="update",
            entity="annual_report_due_date",
            entity_id=kind.value,
            before={"due": before},
            after={"due": data.due},
        )
    return row


# ---- audit -----------------------------------------------------------------------------


def _scope_units(session: Session, district: str | None) -> list[Unit]:
    query = select(Unit)
    if district is not None:
        query = query.where((col(Unit.code) == district) | (col(Unit.parent_code) == district))
    return list(session.exec(query.order_by(col(Unit.code))))


def audit_report(
    session: Session,
    *,
    year: int,
    as_of: date,
    district: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """Per unit of a page: its due date and state (as milestones judge them), its report's
    status, rule breaks and warnings; table 三 summed over every unit in scope."""
    template = rules.template_for(year)
    units = _scope_units(session, district)
    codes = [u.code for u in units]
    due = due_dates(session)
    query = select(AnnualReport).where(AnnualReport.year == year)
    if district is not None:  # a district's few units; the whole city or nation unfiltered
        query = query.where(col(AnnualReport.unit_code).in_(codes))
    reports = {r.unit_code: r for r in session.exec(query)}
    versions = {
        v.report_id: v
        for v in session.exec(
            select(AnnualReportVersion)
            .join(AnnualReport, col(AnnualReport.id) == col(AnnualReportVersion.report_id))
            .where(
                AnnualReport.year == year,
                col(AnnualReportVersion.number) == col(AnnualReport.version),
            )
        )
    }
    counted = [versions.get(r.id or 0, r).requests for r in reports.values()]
    page = units[offset : offset + limit]
    registers = register_tables(
        session, [u.code for u in page if u.code in reports], year, template.code
    )
    rows: list[dict[str, Any]] = []
    for unit in page:
        month, day, _ = due[UnitKind(unit.kind)]
        due_date = due_on((month, day), year)
        report = reports.get(unit.code)
        done = report.first_published_on if report else None
        state, days = milestones.state_of(due_date, done, as_of)
        version = versions.get(report.id) if report and report.id else None
        district_code = (
            unit.code
            if unit.kind == UnitKind.district
            else unit.parent_code
            if unit.kind != UnitKind.city
            else None
        )
        rows.append(
            {
                "unit_code": unit.code,
                "unit_name": unit.name,
                "unit_kind": unit.kind,
                "district_code": district_code,
                "due_on": due_date,
                "state": state,
                "days": days,
                "status": report.status if report else None,
                "version": report.version if report else 0,
                "published_on": done if done is not None and done <= as_of else None,
                "url": version.url if version else None,
                "errors": errors(report) if report else [],
                "warnings": warnings(session, report, registers.get(unit.code)) if report else [],
            }
        )
    return {
        "year": year,
        "as_of": as_of,
        "district": district,
        "template": template.code,
        "total_units": len(units),
        "offset": offset,
        "limit": limit,
        "next_offset": paging.after_offset(offset, limit, len(units)),
        "units": rows,
        "requests_total": rules.sum_requests(template, counted),
        "reports_counted": len(counted),
    }
