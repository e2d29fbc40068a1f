"""看板 / what the pages show: the completeness audit (app/services/audit.py) regrouped for
the eye, never recomputed. Every figure here is read off one `audit.completeness` report, the
same the audit endpoint serves for the same as_of and district, so a page and the JSON behind
it cannot disagree.

A panel (timeliness, request register, annual reports) is a section template plus a field
filled by its own service here; nothing else changes.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, and_, col, or_, select

from app.models.audit import CompletenessReport, CompletenessRow, DistrictRollup, UnitScore
from app.models.common import UnitKind
from app.models.milestone import Milestone, MilestoneEvent
from app.models.request import DisclosureRequest
from app.models.unit import Unit
from app.render.dashboard import (
    MILESTONE_STATES,
)
from app.services import annual_reports, audit, milestones, requests, timeliness
from app.services.calendar import work_calendar

OPEN_STATES = ("pending", "overdue")
PAGE_UNITS = 1000
"""Units a page reads in one report: the audit's largest page (a city has some fifty)."""


def cell_state(row: CompletenessRow, compile_milestones: tuple[str, ...]) -> str:
    """The catalogue's state as of the report's date, from the row's dated fields: published
    when a version was published by then (`published`), compiled when it is compiled now and
    compile milestones (event "compiled") were not still open that day, else draft or missing."""
    if not row["applicable"]:
        return "not_applicable"
    if row["published"] is not None:
        return "published"
    if row["status"] in ("compiled", "published"):
        entries = [row["milestones"][c] for c in compile_milestones if c in row["milestones"]]
        if any(entry["state"] in OPEN_STATES for entry in entries):
            return "draft"
        return "compiled"
    return row["status"]


@dataclass
class GridRow:
    unit_code: str
    unit_name: str
    unit_kind: str
    cells: list[tuple[str, str]]
    """(domain code, state) in domain order"""


@dataclass
class MilestoneBar:
    """One stacked bar: how many obliged unit × domain pairs are in each state."""

    label_code: str
    label: str
    milestone: str
    title: str
    due_on: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def segments(self) -> list[tuple[str, float, float, int]]:
        """(state, x, width, count) on a 0..100 axis."""
        total, x, result = self.total, 0.0, []
        for state in MILESTONE_STATES:
            count = self.counts.get(state, 0)
            if count and total:
                width = 100.0 * count / total
                result.append((state, round(x, 3), round(width, 3), count))
                x += width
        return result


@dataclass
class MilestoneTodo:
    """A milestone the unit has not met yet, and the catalogues (domains) still open for it."""

    milestone: Milestone
    state: str
    days: int
    domains: list[tuple[str, str, str, int]]
    """(domain code, domain name, state of its catalogue, items)"""


@dataclass
class LackingTodo:
    """An item that lacks required attributes, due by its catalogue's earliest open milestone."""

    due_on: date | None
    domain_code: str
    domain_name: str
    item_id: int
    item_name: str
    missing: list[str]


@dataclass
class View:
    as_of: date
    report: CompletenessReport
    domains: list[tuple[str, str]]
    grid: list[GridRow]
    bars: list[MilestoneBar]
    milestones: list[Milestone]
    districts: list[DistrictRollup] = field(default_factory=list)
    units: list[UnitScore] = field(default_factory=list)
    rows: list[CompletenessRow] = field(default_factory=list)
    todo: list[MilestoneTodo] = field(default_factory=list)
    lacking: list[LackingTodo] = field(default_factory=list)
    panels: "Panels | None" = None
    work: "UnitWork | None" = None


def _domains(rows: list[CompletenessRow]) -> list[tuple[str, str]]:
    return sorted({(r["domain_code"], r["domain_name"]) for r in rows})


def compile_milestones(listing: list[Milestone]) -> tuple[str, ...]:
    return tuple(m.code for m in listing if m.event == MilestoneEvent.compiled)


def _grid(
    rows: list[CompletenessRow], units: list[UnitScore], listing: list[Milestone]
) -> list[GridRow]:
    compiled = compile_milestones(listing)
    by_unit: dict[str, list[CompletenessRow]] = defaultdict(list)
    for row in rows:
        by_unit[row["unit_code"]].append(row)
    return [
        GridRow(
            unit["unit_code"],
            unit["unit_name"],
            unit["unit_kind"],
            [(r["domain_code"], cell_state(r, compiled)) for r in by_unit[unit["unit_code"]]],
        )
        for unit in units
        if unit["unit_code"] in by_unit
    ]


def milestone_counts(rows: list[CompletenessRow], key: str) -> dict[tuple[str, str], Counter[str]]:
    """(rows[key], milestone code) → states counted over the rows' milestone entries."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        for code, entry in row["milestones"].items():
            counts[(str(row[key]), code)][entry["state"]] += 1  # type: ignore[literal-required]
    return counts


def _bars(
    rows: list[CompletenessRow], key: str, labels: dict[str, str], listing: list[Milestone]
) -> list[MilestoneBar]:
    counts = milestone_counts(rows, key)
    return [
        MilestoneBar(
            code,
            name,
            milestone.code,
            milestone.title,
            milestone.due_on,
            dict(counts[(code, milestone.code)]),
        )
        for code, name in labels.items()
        for milestone in listing
        if counts.get((code, milestone.code))
    ]


def _report(session: Session, as_of: date, district: Unit | None) -> CompletenessReport:
    scope = audit.Scope(as_of=as_of, district=district)
    return audit.completeness(session, scope, limit=PAGE_UNITS, offset=0)


def city(session: Session, *, as_of: date) -> View:
    """Districts × domains (each district's own catalogues), milestone bars per district
    (its own and its streets' and towns' obligations), the district ranking."""
    report = _report(session, as_of, None)
    listing = milestones.listing(session)
    district_units = [u for u in report["units"] if u["unit_kind"] == UnitKind.district]
    labels = {d["district_code"]: d["district_name"] for d in report["districts"]}
    return View(
        as_of=as_of,
        report=report,
        domains=_domains(report["rows"]),
        grid=_grid(report["rows"], district_units, listing),
        bars=_bars(report["rows"], "district_code", labels, listing),
        milestones=listing,
        districts=report["districts"],
        units=district_units,
        panels=panels(session, as_of=as_of, district=None, filing=True),
    )


def district(session: Session, unit: Unit, *, as_of: date, filing: bool) -> View:
    """The district's units × domains, milestone bars per unit, their scores; the panels
    per unit (annual-report filing when `filing`: the auditor's)."""
    report = _report(session, as_of, unit)
    listing = milestones.listing(session)
    labels = {u["unit_code"]: u["unit_name"] for u in report["units"]}
    return View(
        as_of=as_of,
        report=report,
        domains=_domains(report["rows"]),
        grid=_grid(report["rows"], report["units"], listing),
        bars=_bars(report["rows"], "unit_code", labels, listing),
        milestones=listing,
        districts=[d for d in report["districts"] if d["district_code"] == unit.code],
        units=report["units"],
        panels=panels(session, as_of=as_of, district=unit, filing=filing),
    )


def district_of(session: Session, unit: Unit) -> Unit | None:
    if unit.kind == UnitKind.district:
        return unit
    return session.get(Unit, unit.parent_code) if unit.parent_code else None


def unit_page(session: Session, unit: Unit, *, as_of: date) -> View:
    """One unit: its catalogues, its milestone bars per milestone, its score, what is left."""
    report = _report(session, as_of, district_of(session, unit))
    listing = milestones.listing(session)
    rows = [r for r in report["rows"] if r["unit_code"] == unit.code]
    units = [u for u in report["units"] if u["unit_code"] == unit.code]
    milestones_left, lacking = todo(rows, listing, compile_milestones(listing))
    return View(
        as_of=as_of,
        report=report,
        domains=_domains(rows),
        grid=_grid(rows, units, listing),
        bars=_bars(rows, "unit_code", {unit.code: unit.name}, listing),
        milestones=listing,
        units=units,
        rows=rows,
        todo=milestones_left,
        lacking=lacking,
        work=unit_work(session, unit, as_of=as_of),
    )


def todo(
    rows: list[CompletenessRow], listing: list[Milestone], compiled: tuple[str, ...]
) -> tuple[list[MilestoneTodo], list[LackingTodo]]:
    """What is left, earliest due first: each open milestone (pending or overdue) with the
    catalogues still open for it; each item lacking attributes, named with what it lacks,
    due by its catalogue's earliest open milestone (none open: last)."""
    open_by_code: dict[str, MilestoneTodo] = {}
    lacking: list[LackingTodo] = []
    for row in rows:
        if not row["applicable"]:
            continue
        due: list[date] = []
        for milestone in listing:
            entry = row["milestones"].get(milestone.code)
            if entry is None or entry["state"] not in OPEN_STATES:
                continue
            due.append(milestone.due_on)
            todo = open_by_code.setdefault(
                milestone.code, MilestoneTodo(milestone, entry["state"], entry["days"], [])
            )
            todo.domains.append(
                (row["domain_code"], row["domain_name"], cell_state(row, compiled), row["items"])
            )
        lacking += [
            LackingTodo(
                min(due) if due else None,
                row["domain_code"],
                row["domain_name"],
                item["id"],
                item["name"],
                item["missing"],
            )
            for item in row["lacking_items"]
        ]
    milestones_left = sorted(
        open_by_code.values(), key=lambda t: (t.milestone.due_on, t.milestone.position)
    )
    lacking.sort(key=lambda t: (t.due_on is None, t.due_on or date.max, t.domain_code))
    return milestones_left, lacking


# ------------------------------------------------------------------------------- panels
# Timeliness (app/services/timeliness.py, GET /api/v1/audit/timeliness), the request register
# (app/services/requests.py, GET /api/v1/audit/requests) and annual-report filing
# (app/services/annual_reports.py, GET /api/v1/audit/annual-reports): each read once for the
# page's as_of and district, then summed per district (city) or listed per unit (district).

DUE_SOON = 5
"""Working days: a request due within them is on the clerk's list (as the audit counts it)."""


@dataclass
class TimelinessLine:
    """Per district (city page) or unit (district page): figures of the timeliness audit."""

    code: str
    name: str
    items: int = 0
    records: int = 0
    on_time: int = 0
    late: int = 0
    blank: int = 0
    stale: int = 0
    blank_or_stale: int = 0
    flagged: int = 0
    """units flagged (5 or more blank or stale items)"""

    def counts(self) -> dict[str, int]:
        return {"late": self.late, "blank": self.blank, "stale": self.stale}


@dataclass
class RequestLine:
    """Per district or unit: figures of the request-register audit."""

    code: str
    name: str
    open: int = 0
    due_within_5: int = 0
    overdue: int = 0
    answered_late: int = 0

    def counts(self) -> dict[str, int]:
        later = self.open - self.due_within_5 - self.overdue
        return {"overdue": self.overdue, "due_within_5": self.due_within_5, "later": later}


@dataclass
class FilingLine:
    """Per district: its units' annual reports by state (as milestones judge them)."""

    code: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def filed(self) -> int:
        return self.counts.get("on_time", 0) + self.counts.get("late", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Panels:
    """The three panels of a city or district page."""

    timeliness: list[TimelinessLine]
    timeliness_scale: int
    requests: list[RequestLine]
    requests_scale: int
    filing_year: int
    filing: list[FilingLine]
    """per district (city page); empty on a district page"""
    filing_units: list[dict[str, Any]]
    """the annual-report audit's rows (district page)"""
    timeliness_more: bool = False
    requests_more: bool = False


def filing_year(as_of: date) -> int:
    """The year whose annual report falls due in as_of's year (the year before)."""
    return as_of.year - 1


def _district_map(session: Session) -> dict[str, tuple[str, str]]:
    """unit code → (district code, district name) for districts and the units under them."""
    units = session.exec(select(Unit)).all()
    names = {u.code: u.name for u in units if u.kind == UnitKind.district}
    found: dict[str, tuple[str, str]] = {}
    for u in units:
        if u.kind == UnitKind.district:
            found[u.code] = (u.code, u.name)
        elif u.parent_code in names:
            found[u.code] = (u.parent_code, names[u.parent_code])
    return found


def panels(session: Session, *, as_of: date, district: Unit | None, filing: bool) -> Panels:
    """Per district (no district: the city page) or per unit of the district: timeliness,
    requests; annual-report filing when `filing` (the auditor's: the API's scope)."""
    districts = _district_map(session) if district is None else {}

    def key(code: str, name: str) -> tuple[str, str] | None:
        """The line a unit counts in: its district's (city page; None for a unit under no
        district), else its own."""
        return districts.get(code) if district is None else (code, name)

    report = timeliness.report(
        session,
        timeliness.Scope(as_of=as_of, district=district.code if district else None, domain=None),
        limit=PAGE_UNITS,
        offset=0,
    )
    lines: dict[str, TimelinessLine] = {}
    names = {row["unit_code"]: row["unit_name"] for row in report["rows"]}
    for row in report["rows"]:
        found = key(row["unit_code"], row["unit_name"])
        if found is None:
            continue
        line = lines.setdefault(found[0], TimelinessLine(*found))
        for name_ in ("items", "records", "on_time", "late"):
            setattr(line, name_, getattr(line, name_) + row[name_])
    for unit in report["units"]:
        found = key(unit["unit_code"], names.get(unit["unit_code"], unit["unit_code"]))
        if found is None:
            continue
        line = lines.setdefault(found[0], TimelinessLine(*found))
        line.blank += unit["blank"]
        line.stale += unit["stale"]
        line.blank_or_stale += unit["blank_or_stale"]
        line.flagged += int(unit["flagged"])
    timeliness_lines = sorted(lines.values(), key=lambda line: line.code)

    audited = requests.audit(
        session,
        requests.AuditScope(as_of=as_of, district=district.code if district else None),
        limit=PAGE_UNITS,
        offset=0,
    )
    request_lines: dict[str, RequestLine] = {}
    for unit in audited["units"]:
        found = key(unit["unit_code"], unit["unit_name"])
        if found is None:
            continue
        line_ = request_lines.setdefault(found[0], RequestLine(*found))
        for name_ in ("open", "due_within_5", "overdue", "answered_late"):
            setattr(line_, name_, getattr(line_, name_) + unit[name_])
    request_list = sorted(request_lines.values(), key=lambda line: line.code)

    year = filing_year(as_of)
    filing_lines: list[FilingLine] = []
    filing_units: list[dict[str, Any]] = []
    if filing:
        filed = annual_reports.audit_report(
            session,
            year=year,
            as_of=as_of,
            district=district.code if district else None,
            limit=PAGE_UNITS * 10,
            offset=0,
        )
        if district is None:
            by_district: dict[str, FilingLine] = {}
            for row in filed["units"]:
                if row["district_code"] is None or row["district_code"] not in districts:
                    continue
                code, name = districts[row["district_code"]]
                entry = by_district.setdefault(code, FilingLine(code, name))
                entry.counts[str(row["state"])] = entry.counts.get(str(row["state"]), 0) + 1
            filing_lines = sorted(by_district.values(), key=lambda line: line.code)
        else:
            filing_units = filed["units"]
    return Panels(
        timeliness=timeliness_lines,
        timeliness_scale=max((sum(t.counts().values()) for t in timeliness_lines), default=0),
        requests=request_list,
        requests_scale=max((r.open for r in request_list), default=0),
        filing_year=year,
        filing=filing_lines,
        filing_units=filing_units,
        timeliness_more=report["next_offset"] is not None,
        requests_more=audited["next_offset"] is not None,
    )


# --------------------------------------------------------------- the clerk's to-do list


@dataclass
class RequestTodo:
    """An open application due within 5 working days, or overdue, as the audit counts it."""

    id: int
    reference: str | None
    received_on: date
    due_on: date | None
    days_left: int
    """working days; negative when overdue"""
    state: str


@dataclass
class RecordTodo:
    """An item of the published catalogue with no record (blank) or none for its last
    period (stale), as the timeliness audit finds it."""

    kind: str
    """blank or stale"""
    due_on: date | None
    """stale: the last period's due date; blank: none (due now)"""
    domain_code: str
    item_id: int
    item_name: str
    period: tuple[date, date] | None = None


@dataclass
class UnitWork:
    requests: list[RequestTodo]
    request_counts: dict[str, int]
    """open, due_within_5, overdue: the audit's row for the unit (zeros when absent)"""
    records: list[RecordTodo]
    blank: int
    stale: int


def unit_work(session: Session, unit: Unit, *, as_of: date) -> UnitWork:
    """Requests due within 5 working days or overdue, replayed as GET /audit/requests does;
    blank and stale items from the timeliness audit of the unit's district."""
    r = DisclosureRequest
    open_then = and_(
        col(r.received_on) <= as_of, or_(col(r.closed_on).is_(None), col(r.closed_on) > as_of)
    )
    pending = list(
        session.exec(
            select(r)
            .where(col(r.unit_code) == unit.code, open_then)
            .order_by(col(r.received_on), col(r.id))
        )
    )
    calendar = work_calendar(session)
    events = requests.events_of(session, (p.id for p in pending if p.id is not None))
    due: list[RequestTodo] = []
    counts = {"open": 0, "due_within_5": 0, "overdue": 0}
    for request in pending:
        clock = requests.replay(request, events[request.id or 0], calendar, through=as_of)
        counts["open"] += 1
        left = clock.days_left(as_of, calendar)
        if left is None or left > DUE_SOON:
            continue
        counts["overdue" if left < 0 else "due_within_5"] += 1
        due.append(
            RequestTodo(
                request.id or 0,
                request.reference,
                request.received_on,
                clock.due_on,
                left,
                clock.state_on(as_of),
            )
        )
    due.sort(key=lambda t: (t.due_on or date.max, t.id))

    home = district_of(session, unit)
    report = timeliness.report(
        session,
        timeliness.Scope(as_of=as_of, district=home.code if home else None, domain=None),
        limit=PAGE_UNITS,
        offset=0,
    )
    found: list[RecordTodo] = []
    blank = stale = 0
    for row in report["rows"]:
        if row["unit_code"] != unit.code:
            continue
        blank += row["blank"]
        stale += row["stale"]
        found += [
            RecordTodo("blank", None, row["domain_code"], i["id"], i["name"])
            for i in row["blank_items"]
        ]
        found += [
            RecordTodo(
                "stale",
                i["due_on"],
                row["domain_code"],
                i["id"],
                i["name"],
                (i["period_start"], i["period_end"]),
            )
            for i in row["stale_items"]
        ]
    found.sort(key=lambda t: (t.due_on or as_of, t.kind, t.domain_code))
    return UnitWork(due, counts, found, blank, stale)


@dataclass
class AgendaEntry:
    """One line of the clerk's list: what to do, by when (None: no date, after the rest)."""

    due_on: date | None
    kind: str
    what: str
    detail: str
    anchor: str
    """where on the page (or which API answer) the details are"""
    overdue: bool


def _some(names: Iterable[str], shown: int = 3) -> str:
    """A few names and how many there are: 「02 重大建设项目、03 公共资源交易… 共 25 个」."""
    listed = list(names)
    head = "、".join(listed[:shown])
    return head if len(listed) <= shown else f"{head}… 共 {len(listed)} 个"


def agenda(view: View) -> list[AgendaEntry]:
    """Everything left, earliest due first: open milestones, items lacking attributes (one
    line per catalogue), requests due within 5 working days or overdue, blank items (due
    now: the day of the page) and stale items (their last period's due date)."""
    as_of = view.as_of
    entries = [
        AgendaEntry(
            t.milestone.due_on,
            "milestone",
            t.milestone.title,
            _some(f"{code} {name}" for code, name, _, _ in t.domains),
            "#todo",
            t.state == "overdue",
        )
        for t in view.todo
    ]
    by_domain: dict[str, list[LackingTodo]] = defaultdict(list)
    for item in view.lacking:
        by_domain[item.domain_code].append(item)
    for code, items in by_domain.items():
        due = items[0].due_on
        entries.append(
            AgendaEntry(
                due,
                "lacking",
                f"{code} {items[0].domain_name}：{len(items)} 个事项缺要素",
                _some(i.item_name for i in items),
                "#lacking",
                due is not None and due < as_of,
            )
        )
    if view.work is not None:
        for r in view.work.requests:
            entries.append(
                AgendaEntry(
                    r.due_on,
                    "request",
                    f"申请 {r.reference or r.id}（{r.received_on} 收到）",
                    f"逾期 {-r.days_left} 个工作日"
                    if r.days_left < 0
                    else f"剩 {r.days_left} 个工作日",
                    f"/api/v1/requests/{r.id}",
                    r.days_left < 0,
                )
            )
        for t in view.work.records:
            entries.append(
                AgendaEntry(
                    t.due_on or as_of,
                    t.kind,
                    f"{t.domain_code} {t.item_name}",
                    "没有发布过任何记录"
                    if t.kind == "blank"
                    else f"{t.period[0]}—{t.period[1]} 没有记录"
                    if t.period
                    else "",
                    f"/api/v1/items/{t.item_id}",
                    t.kind == "stale",
                )
            )
    entries.sort(key=lambda e: (e.due_on is None, e.due_on or date.max, e.kind))
    return entries
