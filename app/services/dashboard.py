"""看板 / what the pages show: the completeness audit (app/services/audit.py) regrouped for
the eye, never recomputed. Every figure here is read off one `audit.completeness` report, the
same the audit endpoint serves for the same as_of and district, so a page and the JSON behind
it cannot disagree.

A panel (timeliness, request register, annual reports) is a section template plus a field
filled by its own service here; nothing else changes.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from app.models.audit import CompletenessReport, CompletenessRow, DistrictRollup, UnitScore
from app.models.common import UnitKind
from app.models.milestone import Milestone, MilestoneEvent, MilestoneState
from app.models.unit import Unit
from app.services import audit, milestones

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
        for state in map(str, MilestoneState):
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
    )


def district(session: Session, unit: Unit, *, as_of: date) -> View:
    """The district's units × domains, milestone bars per unit, their scores."""
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
