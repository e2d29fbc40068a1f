"""审计 / the city office's audit, set-based: a fixed number of SQL statements per request,
whatever the number of units and items; the database aggregates, Python only scores.

Statements per completeness request: the unit aggregate (every unit in scope, for the
district ranking, over the stored per-catalogue counts of app/services/stats.py), the
timeliness versions (every unit in scope, app/services/timeliness.py), the rows of the page's
units with their stored lists (catalogue_lists) and the milestone states' obligations and
event dates, the milestones, and the guide when a row has no lists. Statistics: one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, SQLModel

from app.models.audit import (
    CompletenessReport,
    CompletenessRow,
    DistrictRollup,
    GuideGap,
    LevelStatistics,
    MilestoneEntry,
    Published,
    RowTimeliness,
    ScoreComponent,
    StatisticsReport,
    UnitScore,
    UnitStatistics,
)
from app.models.common import UnitKind
from app.models.domain import Domain
from app.models.milestone import Milestone
from app.models.unit import GUIDE_LEVEL, Unit
from app.rules import quality
from app.services import milestones, paging, stats, timeliness

TABLES = SQLModel.metadata.tables
units_t = TABLES["units"]
domains_t = TABLES["domains"]
catalogues_t = TABLES["catalogues"]
items_t = TABLES["items"]
guides_t = TABLES["guide_items"]
waivers_t = TABLES["guide_waivers"]
versions_t = TABLES["catalogue_versions"]
lists_t = TABLES["catalogue_lists"]

AUDITED_KINDS = (UnitKind.district, UnitKind.street, UnitKind.town)

# The score: 100 points over eight components (docs/audit.md). Weights are data: change them
# here (they must add up to 100; a test checks) and the report, files and pages follow.
WEIGHTS: dict[str, float] = {
    "catalogues": 20.0,
    "attributes": 20.0,
    "coverage": 15.0,
    "quality": 10.0,
    "published": 15.0,
    "blank": 10.0,
    "stale": 5.0,
    "late": 5.0,
}
WEIGHT_OF = tuple(WEIGHTS.values())
ORDER = itemgetter(13, 14, 0)
"""Sort key of a unit_aggregate row: (order_district, order_township, unit_code)."""
LABELS: dict[str, str] = {
    "catalogues": "目录齐全（适用领域有目录）",
    "attributes": "要素齐全（二级事项八要素）",
    "coverage": "覆盖标准指引",
    "quality": "内容质量（时限、依据、主体）",
    "published": "按时发布（截至审计日）",
    "blank": "无空白栏目（主动公开事项有记录）",
    "stale": "无不更新栏目（定期事项按期更新）",
    "late": "按时限公开（记录未逾期）",
}
NOTHING = timeliness.UnitFigures(0, 0, 0, 0, 0, 0, 0)
"""The timeliness figures of a unit with no version published by as_of."""

# Why a component's ratio is what it is when its denominator is empty (ScoreComponent.reason).
ALL_EXCLUDED = "全部领域已声明不适用 / every domain declared not applicable"
NO_ITEMS = "没有事项 / no items"
NO_GUIDE = "适用领域在本层级没有标准指引事项 / no guide items at the unit's level"
NOTHING_PUBLISHED = "截至审计日没有已发布的事项 / no item published by as_of"
NO_JUDGED = "没有可判定时效的记录 / no record with a time limit to judge"


@dataclass(frozen=True)
class Scope:
    as_of: date
    district: Unit | None = None
    domain: Domain | None = None


def _bit(column: Any, bit: int) -> Any:
    return sa.case((column.op("&")(bit) != 0, 1), else_=0)


def _unit_mask(kind: Any) -> Any:
    """1 = 县级 (a district), 2 = 乡级 (a street or town): matched against guide level_mask."""
    return sa.case((kind == UnitKind.district.value, quality.COUNTY), else_=quality.TOWNSHIP)


class _utf8(FunctionElement[Any]):
    """A text column as its UTF-8 bytes on SQLite (a cast to BLOB: the driver copies them,
    where it would decode the text into a str that orjson encodes again), as itself
    elsewhere. For the stored lists, which the JSON answer embeds as they are."""

    inherit_cache = True


@compiles(_utf8)
def _utf8_itself(element: _utf8, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_utf8, "sqlite")
def _utf8_sqlite(element: _utf8, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


def _scope_units(scope: Scope) -> Any:
    district_code = sa.case(
        (units_t.c.kind == UnitKind.district.value, units_t.c.code), else_=units_t.c.parent_code
    )
    query = sa.select(
        units_t.c.code,
        units_t.c.name,
        units_t.c.kind,
        district_code.label("district_code"),
        _unit_mask(units_t.c.kind).label("mask"),
    ).where(units_t.c.kind.in_([k.value for k in AUDITED_KINDS]))
    if scope.district is not None:
        code = _param("district", scope.district.code)
        query = query.where((units_t.c.code == code) | (units_t.c.parent_code == code))
    return query


def _scope_domains(scope: Scope) -> Any:
    query = sa.select(domains_t.c.code, domains_t.c.name, domains_t.c.is_pilot)
    if scope.domain is not None:
        query = query.where(domains_t.c.code == _param("domain", scope.domain.code))
    return query


def _guide_totals() -> Any:
    """Per domain: how many guide items apply at 县级 and at 乡级."""
    return (
        sa.select(
            guides_t.c.domain_code,
            sa.func.sum(_bit(guides_t.c.level_mask, quality.COUNTY)).label("county"),
            sa.func.sum(_bit(guides_t.c.level_mask, quality.TOWNSHIP)).label("township"),
        )
        .group_by(guides_t.c.domain_code)
        .subquery("gt")
    )


def _at_level(county: Any, county_value: Any, township_value: Any) -> Any:
    return sa.case((county, county_value), else_=township_value)


def unit_aggregate(scope: Scope, counts: Any | None = None) -> Any:
    """The aggregate the audit needs: per unit in scope, the numerators and denominators of
    every score component, from the counts stored on each catalogue (kept on write by
    app/services/stats.py), so it reads catalogues, never items: one pass over them grouped
    by unit, then the units. bench/audit.py times the endpoint against it.

    `counts` replaces the stored counts by another source of the same columns: with
    `stats.counts()` this is the aggregate over the base tables (items, waivers, guide,
    versions) the audit used to run per request (unit_aggregate_from_items).

    A domain without a catalogue counts as applicable, missing and uncovered, so the per-unit
    totals are the scope's domain count and guide size less what the unit's catalogues
    declare not applicable.
    """
    u = _scope_units(scope).cte("u")
    d = _scope_domains(scope).subquery("d")
    gt = _guide_totals()
    level = (
        sa.select(
            sa.func.count().label("domains"),
            sa.func.coalesce(sa.func.sum(gt.c.county), 0).label("county"),
            sa.func.coalesce(sa.func.sum(gt.c.township), 0).label("township"),
        )
        .select_from(d.outerjoin(gt, gt.c.domain_code == d.c.code))
        .subquery("level")
    )
    source: Any = catalogues_t
    cs: Any = catalogues_t
    if counts is not None:
        source = catalogues_t.join(counts, counts.c.catalogue_id == catalogues_t.c.id)
        cs = counts
    ok = catalogues_t.c.applicable == sa.true()
    excluded = catalogues_t.c.applicable == sa.false()

    def when(condition: Any, value: Any = 1) -> Any:
        return sa.func.sum(sa.case((condition, value), else_=0))

    # per unit, both levels' guide figures: the unit's kind picks one outside
    per_unit = (
        sa.select(
            catalogues_t.c.unit_code,
            when(excluded).label("excluded"),
            when(excluded, sa.func.coalesce(gt.c.county, 0)).label("excluded_county"),
            when(excluded, sa.func.coalesce(gt.c.township, 0)).label("excluded_township"),
            when(ok & (cs.c.item_count > 0)).label("existing"),
            when(ok & (cs.c.first_version_on <= _as_of(scope))).label("published"),
            when(ok, cs.c.item_count).label("items"),
            when(ok, cs.c.lacking_count).label("lacking"),
            when(ok, cs.c.flagged_count).label("flagged"),
            when(ok, cs.c.present_county + cs.c.waived_county).label("covered_county"),
            when(ok, cs.c.present_township + cs.c.waived_township).label("covered_township"),
        )
        .select_from(source.outerjoin(gt, gt.c.domain_code == catalogues_t.c.domain_code))
        .group_by(catalogues_t.c.unit_code)
    )
    if scope.domain is not None:
        per_unit = per_unit.where(catalogues_t.c.domain_code == _param("domain", scope.domain.code))
    if scope.district is not None:  # a few units: reach their catalogues through the index
        per_unit = per_unit.where(catalogues_t.c.unit_code.in_(sa.select(u.c.code)))
    pu = per_unit.subquery("pu")
    county = u.c.mask == quality.COUNTY

    def zero(column: Any) -> Any:
        return sa.func.coalesce(column, 0)

    def whole(value: Any) -> Any:  # an integer on every database (a sum of sums is numeric)
        return sa.cast(value, sa.Integer)

    return (
        sa.select(
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            sa.type_coerce(u.c.kind, sa.String).label("unit_kind"),  # the text, not the enum
            u.c.district_code,
            whole(level.c.domains).label("domains"),
            whole(level.c.domains - zero(pu.c.excluded)).label("applicable"),
            whole(zero(pu.c.existing)).label("existing"),
            whole(zero(pu.c.published)).label("published"),
            whole(zero(pu.c["items"])).label("items"),
            whole(zero(pu.c.lacking)).label("lacking"),
            whole(zero(pu.c.flagged)).label("flagged"),
            whole(
                _at_level(
                    county,
                    level.c.county - zero(pu.c.excluded_county),
                    level.c.township - zero(pu.c.excluded_township),
                )
            ).label("guide"),
            whole(zero(_at_level(county, pu.c.covered_county, pu.c.covered_township))).label(
                "covered"
            ),
            # the report's order: districts by code, each before its streets and towns
            sa.func.coalesce(u.c.district_code, "").label("order_district"),
            sa.case((u.c.kind == UnitKind.district.value, 0), else_=1).label("order_township"),
        )
        .select_from(u)
        .join(level, sa.true())
        .outerjoin(pu, pu.c.unit_code == u.c.code)
    )


def unit_aggregate_from_items(scope: Scope) -> Any:
    """unit_aggregate over the base tables (every item, waiver, guide item and version)
    instead of the stored counts: what the audit read per request before they were stored;
    the reference they must equal (tests) and the benchmark's reference row."""
    return unit_aggregate(scope, stats.counts().subquery("cs"))


def page_rows(scope: Scope, codes: Sequence[str], listed: Sequence[Milestone] = ()) -> Any:
    """The rows (unit × domain) of a page of units: the stored counts, the guide's size at
    the unit's level, the latest version published on or before as_of, the stored lists;
    then, per milestone of `listed`, whether it obliges the row and its event date
    (milestones.row_columns: the catalogue row is read once for both). The unit's name,
    kind and district are not repeated on each of its rows: the caller has them."""
    u = _scope_units(scope).where(units_t.c.code.in_(_codes(codes))).cte("u")
    # each milestone's domain set read once per domain, not once per row (MATERIALIZED: not
    # folded into the join)
    domains = _scope_domains(scope).subquery()
    d = (
        sa.select(domains, *milestones.domain_columns(listed, domains.c.code))
        .cte("d")
        .prefix_with("MATERIALIZED")
    )
    gt = _guide_totals()
    latest = (
        sa.select(versions_t.c.catalogue_id, sa.func.max(versions_t.c.number).label("number"))
        .where(versions_t.c.unit_code.in_(_codes(codes)))
        .where(versions_t.c.published_on <= _as_of(scope))
        .group_by(versions_t.c.catalogue_id)
        .subquery("latest")
    )
    version = versions_t.alias("pv")
    county = u.c.mask == quality.COUNTY
    filters = milestones.Filters(
        scope.district.code if scope.district else None,
        scope.domain.code if scope.domain else None,
        tuple(codes),
    )
    marks, events = milestones.row_columns(
        listed,
        filters,
        unit_code=u.c.code,
        unit_kind=u.c.kind,
        domain_code=d.c.code,
        in_sets=[d.c[f"in_set_{i}"] for i in range(len(listed))],
    )

    def zero(column: Any, label: str) -> Any:
        return sa.func.coalesce(column, 0).label(label)

    query = (
        sa.select(
            u.c.code.label("unit_code"),  # its name, kind and district: the page's units
            d.c.code.label("domain_code"),
            d.c.name.label("domain_name"),
            d.c.is_pilot,
            sa.func.coalesce(catalogues_t.c.applicable, sa.true()).label("applicable"),
            catalogues_t.c.not_applicable_reason,
            catalogues_t.c.status,
            zero(catalogues_t.c.item_count, "n_items"),
            zero(catalogues_t.c.lacking_count, "n_lacking"),
            zero(catalogues_t.c.flagged_count, "n_flagged"),
            zero(catalogues_t.c.vague_time_limit_count, "n_vague"),
            zero(catalogues_t.c.unparsed_time_limit_count, "n_unparsed"),
            zero(catalogues_t.c.basis_without_document_count, "n_basis"),
            zero(catalogues_t.c.generic_body_count, "n_body"),
            zero(_at_level(county, gt.c.county, gt.c.township), "n_guide"),
            zero(
                _at_level(county, catalogues_t.c.present_county, catalogues_t.c.present_township),
                "n_present",
            ),
            zero(
                _at_level(county, catalogues_t.c.waived_county, catalogues_t.c.waived_township),
                "n_waived",
            ),
            version.c.number.label("version"),
            version.c.published_on,
            version.c.published_url,
            catalogues_t.c.first_version_on.label("first_published_on"),
            _utf8(lists_t.c.lacking_items),
            _utf8(lists_t.c.absent_items),
            _utf8(lists_t.c.waived_items),
            *marks,
        )
        .select_from(u)
        .join(d, sa.true())
        .outerjoin(
            catalogues_t,
            (catalogues_t.c.unit_code == u.c.code) & (catalogues_t.c.domain_code == d.c.code),
        )
        .outerjoin(gt, gt.c.domain_code == d.c.code)
        .outerjoin(lists_t, lists_t.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(latest, latest.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(
            version,
            (version.c.catalogue_id == latest.c.catalogue_id)
            & (version.c.number == latest.c.number),
        )
    )
    for subquery, on in events:
        query = query.outerjoin(subquery, on)
    return query


# --------------------------------------------------------------------------- execution
#
# A request's statements differ only in their values (as of, district, domain, the page's
# unit codes), so each is built and compiled once per shape (which filters, how many codes)
# and database, and then run as SQL text on the driver: building and compiling the five
# statements cost more than the database took to run them, and the driver's plain tuples
# skip SQLAlchemy's per-row processing (docs/audit.md, "Cost").

_MARK = "\x00code:"
"""Stands for the i-th unit code of the page when a statement is compiled."""


def _param(name: str, value: Any, type_: Any = None) -> Any:
    return sa.bindparam(name, value, type_=type_)


def _as_of(scope: Scope) -> Any:
    return _param("as_of", scope.as_of, sa.Date)


def _codes(codes: Sequence[str]) -> Any:
    return sa.bindparam("codes", list(codes), expanding=True)


class _Prepared(NamedTuple):
    sql: str
    order: tuple[str, ...] | None
    """the parameters' names in the order of a positional driver's markers; None: by name"""
    constants: dict[str, Any]
    codes: tuple[tuple[str, int], ...]
    """(parameter name, index into the page's codes) of each expanded code"""


_PREPARED: dict[tuple[Any, ...], _Prepared] = {}


def _prepare(
    connection: sa.Connection, build: Any, scope: Scope, count: int | None, shape: Any
) -> _Prepared:
    key = (
        build.__name__,
        shape,
        connection.dialect.name,
        scope.district is not None,
        scope.domain is not None,
        count,
    )
    found = _PREPARED.get(key)
    if found is None:
        args = (scope,) if count is None else (scope, [f"{_MARK}{i}" for i in range(count)])
        compiled = build(*args).compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        constants = dict(compiled.params)
        if connection.dialect.name == "sqlite":  # the driver's date adapter is deprecated
            constants = {
                name: value.isoformat() if isinstance(value, date) else value
                for name, value in constants.items()
            }
        codes = tuple(
            (name, int(value[len(_MARK) :]))
            for name, value in constants.items()
            if isinstance(value, str) and value.startswith(_MARK)
        )
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        if len(_PREPARED) >= 256:  # page sizes vary: keep the set bounded
            _PREPARED.clear()
        found = _PREPARED[key] = _Prepared(str(compiled), order, constants, codes)
    return found


def fetch(
    session: Session,
    build: Any,
    scope: Scope,
    codes: Sequence[str] | None = None,
    shape: Any = None,
) -> list[Any]:
    """The rows of `build(scope)` (or `build(scope, codes)`) as the driver returns them: dates
    are ISO strings on SQLite (see _day), booleans 0/1. `shape`: anything else the statement's
    text depends on (hashable)."""
    connection = session.connection()
    count = None if codes is None else len(codes)
    prepared = _prepare(connection, build, scope, count, shape)
    values = prepared.constants.copy()
    if "as_of" in values:
        sqlite = connection.dialect.name == "sqlite"
        values["as_of"] = scope.as_of.isoformat() if sqlite else scope.as_of
    if scope.district is not None:
        values["district"] = scope.district.code
    if scope.domain is not None:
        values["domain"] = scope.domain.code
    if codes is not None:
        for name, index in prepared.codes:
            values[name] = codes[index]
    params: Any = values if prepared.order is None else tuple(values[n] for n in prepared.order)
    result = connection.exec_driver_sql(prepared.sql, params)
    try:  # the driver's own tuples: no result row built around each (the page has 1,300)
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _day(value: date | str) -> date:
    """A date column's value: SQLite's driver returns the ISO text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


# ------------------------------------------------------------------------------ scores


@lru_cache(maxsize=65_536)
def _ratio_points(
    weight: float, numerator: int, denominator: int, empty: float
) -> tuple[float, float]:
    """(ratio, points) of one component, both rounded as reported: a pure function of few
    distinct arguments, so a national audit computes each pair once, not 40,000 times."""
    ratio = numerator / denominator if denominator else empty
    return round(ratio, 4), round(weight * ratio, 2)


class Scored(NamedTuple):
    """A unit of the page with its score and what its components show."""

    code: str
    name: str
    kind: str
    district_code: str
    domains: int
    applicable: int
    score: float
    counts: tuple[int, ...]
    """numerator and denominator of each component, in WEIGHTS order"""
    ratios: tuple[float, ...]
    """each component's ratio, rounded to 4 places"""
    points: tuple[float, ...]
    """each component's points, rounded to 2 places"""


def _measure(
    row: Any, timely: timeliness.UnitFigures
) -> tuple[float, tuple[int, ...], tuple[float, ...], tuple[float, ...]]:
    """The score of one unit aggregate row and its timeliness figures (docs/audit.md):
    (score, numerator and denominator of each component, ratios, points), components in
    WEIGHTS order.

    A unit that declared every domain not applicable has nothing to lose (ratio 1). Otherwise
    an empty denominator means the unit has nothing where it should: no items → 0, nothing
    published → 0 for blank, stale and late; the guide may be empty for a level (nothing to
    cover), and a unit that published items but has no record to judge has nothing late:
    ratio 1 (its missing records count as blank).

    Called for each of the 40,000 units of a nation, so written flat: no objects but the
    result, each component's rounding looked up in _ratio_points' cache.
    """
    (_, _, _, _, _, applicable, existing, published, items, lacking, flagged, guide, covered) = row[
        :13
    ]
    empty = 0.0 if applicable else 1.0
    sound = items - lacking
    unflagged = items - flagged
    shown = timely.items
    judged = timely.on_time + timely.late
    r1, p1 = _ratio_points(WEIGHT_OF[0], existing, applicable, empty)
    r2, p2 = _ratio_points(WEIGHT_OF[1], sound, items, empty)
    r3, p3 = _ratio_points(WEIGHT_OF[2], covered, guide, 1.0)
    r4, p4 = _ratio_points(WEIGHT_OF[3], unflagged, items, empty)
    r5, p5 = _ratio_points(WEIGHT_OF[4], published, applicable, empty)
    r6, p6 = _ratio_points(WEIGHT_OF[5], shown - timely.blank, shown, empty)
    r7, p7 = _ratio_points(WEIGHT_OF[6], shown - timely.stale, shown, empty)
    r8, p8 = _ratio_points(WEIGHT_OF[7], timely.on_time, judged, 1.0 if shown else empty)
    return (
        round(p1 + p2 + p3 + p4 + p5 + p6 + p7 + p8, 2),
        (
            existing,
            applicable,
            sound,
            items,
            covered,
            guide,
            unflagged,
            items,
            published,
            applicable,
            shown - timely.blank,
            shown,
            shown - timely.stale,
            shown,
            timely.on_time,
            judged,
        ),
        (r1, r2, r3, r4, r5, r6, r7, r8),
        (p1, p2, p3, p4, p5, p6, p7, p8),
    )


def score(row: Any, timely: timeliness.UnitFigures = NOTHING) -> Scored:
    """One unit aggregate row scored, with what its report entry shows."""
    return Scored(row[0], row[1], row[2], row[3], row[4], row[5], *_measure(row, timely))


EMPTY_REASON: dict[str, str] = {
    "attributes": NO_ITEMS,
    "quality": NO_ITEMS,
    "coverage": NO_GUIDE,
    "blank": NOTHING_PUBLISHED,
    "stale": NOTHING_PUBLISHED,
    "late": NO_JUDGED,
}
"""What an empty denominator means per component (catalogues and published count the
applicable domains: empty only when every domain is declared not applicable)."""


def _reason(name: str, unit: Scored, denominator: int) -> str | None:
    if denominator:
        return None
    if not unit.applicable and name not in ("coverage", "late"):
        return ALL_EXCLUDED
    if name == "late" and unit.applicable and not unit.counts[11]:  # nothing shown to judge
        return NOTHING_PUBLISHED
    return EMPTY_REASON.get(name, ALL_EXCLUDED)


def components(unit: Scored) -> list[ScoreComponent]:
    """The score's components for one unit, each with its points and loss, and why when
    its denominator is empty."""
    return [
        {
            "name": name,
            "label": LABELS[name],
            "weight": weight,
            "numerator": unit.counts[2 * i],
            "denominator": unit.counts[2 * i + 1],
            "ratio": unit.ratios[i],
            "points": unit.points[i],
            "lost": round(weight - unit.points[i], 2),
            "reason": _reason(name, unit, unit.counts[2 * i + 1]),
        }
        for i, (name, weight) in enumerate(WEIGHTS.items())
    ]


def _rank(scores: list[tuple[str, float]]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4), best score first."""
    ordered = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    ranks: dict[str, int] = {}
    for position, (code, score) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        ranks[code] = ranks[previous[0]] if previous and previous[1] == score else position
    return ranks


def rollup(
    aggregate: Iterable[Any], timely: dict[str, timeliness.UnitFigures]
) -> list[DistrictRollup]:
    """Per district: the mean of its units' scores (itself and its streets and towns), and
    the mean ratio of each component. One pass over the unit aggregate rows, in the report's
    order (the sums are added in that order)."""
    district = UnitKind.district.value
    names: dict[str, str] = {}
    own: dict[str, float] = {}
    townships: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, float] = defaultdict(float)
    ratios: dict[str, list[float]] = {}
    for row in aggregate:
        unit_score, _, unit_ratios, _ = _measure(row, timely.get(row[0], NOTHING))
        code = row[3]
        totals[code] += unit_score
        if row[2] == district:
            names[row[0]] = row[1]
            own[code] = unit_score
        else:
            townships[code].append(unit_score)
        sums = ratios.get(code)
        if sums is None:
            ratios[code] = list(unit_ratios)
        else:
            for i, ratio in enumerate(unit_ratios):
                sums[i] += ratio
    result: list[DistrictRollup] = []
    for code, sums in ratios.items():
        scores = townships.get(code, [])
        units = len(scores) + (code in own)
        result.append(
            {
                "district_code": code,
                "district_name": names.get(code, code),
                "units": units,
                "score": round(totals[code] / units, 2),
                "district_score": own.get(code),
                "townships_score": round(sum(scores) / len(scores), 2) if scores else None,
                "components": {name: round(sums[i] / units, 4) for i, name in enumerate(WEIGHTS)},
                "rank": 0,
            }
        )
    ranks = _rank([(r["district_code"], r["score"]) for r in result])
    for entry in result:
        entry["rank"] = ranks[entry["district_code"]]
    return sorted(result, key=lambda r: (r["rank"], r["district_code"]))


# ------------------------------------------------------------------------ completeness


def completeness(
    session: Session, scope: Scope, *, limit: int, offset: int, raw: bool = False
) -> CompletenessReport:
    """The audit: rows for a page of units; scores and the district ranking for all of them.

    Plain dicts throughout (the route serialises them once with orjson); every unit in scope
    is scored for the ranking, but only the page's units get their components and reasons.
    `raw`: the lists stored per catalogue (lacking, absent and waived items) are left as
    the JSON text they are stored as (orjson.Fragment), for a caller that only serialises
    the report; otherwise they are parsed into lists.
    """
    aggregate = sorted(fetch(session, unit_aggregate, scope), key=ORDER)
    # Figures of every unit (the ranking), rows with their lists for the page's units only.
    shown = {row[0] for row in aggregate[offset : offset + limit]}
    timely, timely_rows = timeliness.unit_figures(session, _timeliness_scope(scope), shown)
    districts = rollup(aggregate, timely)  # every unit scored, none kept
    page: list[UnitScore] = [
        {
            "unit_code": unit.code,
            "unit_name": unit.name,
            "unit_kind": unit.kind,
            "district_code": unit.district_code,
            "domains": unit.domains,
            "applicable": unit.applicable,
            "score": unit.score,
            "components": components(unit),
            "reasons": [],
        }
        for unit in (
            score(row, timely.get(row[0], NOTHING)) for row in aggregate[offset : offset + limit]
        )
    ]
    rows = _rows(session, scope, page, timely_rows, raw) if page else []
    return {
        "as_of": scope.as_of,
        "district": scope.district.code if scope.district else None,
        "domain": scope.domain.code if scope.domain else None,
        "weights": WEIGHTS,
        "total_units": len(aggregate),
        "offset": offset,
        "limit": limit,
        "next_offset": paging.after_offset(offset, limit, len(aggregate)),
        "rows": rows,
        "units": page,
        "districts": districts,
    }


def _timeliness_scope(scope: Scope) -> timeliness.Scope:
    return timeliness.Scope(
        as_of=scope.as_of,
        district=scope.district.code if scope.district else None,
        domain=scope.domain.code if scope.domain else None,
    )


def _row_timeliness(row: dict[str, Any]) -> RowTimeliness:
    return {
        "version": row["version"],
        "items": row["items"],
        "records": row["records"],
        "on_time": row["on_time"],
        "late": row["late"],
        "unknown": row["unknown"],
        "blank": row["blank"],
        "stale": row["stale"],
    }


def _rows(
    session: Session,
    scope: Scope,
    page: list[UnitScore],
    timely_rows: dict[tuple[str, str], dict[str, Any]],
    raw: bool,
) -> list[CompletenessRow]:
    """The page's rows, by unit (in the page's order) then domain; each unit's reasons
    (why it lost points) are gathered on the way.

    `raw`: the stored lists as orjson.Fragment and, on SQLite, dates as the ISO text the
    driver returns (orjson writes a date as that same text), for a caller that only
    serialises the report."""
    codes = [unit["unit_code"] for unit in page]
    listed = milestones.listing(session)
    # the domain sets are read by the statement itself (milestone_domains); counts_from is a
    # constant of its text
    shape = tuple((m.code, m.event, tuple(m.unit_kinds), m.counts_from) for m in listed)

    def build(scope: Scope, codes: Sequence[str]) -> Any:
        return page_rows(scope, codes, listed)

    build.__name__ = "page_rows"
    by_unit: dict[str, list[Any]] = {code: [] for code in codes}
    for found in fetch(session, build, scope, codes, shape):
        by_unit[found[0]].append(found)
    decide = milestones.Decider(listed, scope.as_of)
    listed_codes = list(enumerate(m.code for m in listed))
    # few distinct states, and few distinct sets of them: shared leaves (never mutated)
    entries: dict[tuple[str, Any], MilestoneEntry] = {}
    shared_states: dict[tuple[Any, ...], dict[str, MilestoneEntry]] = {}
    read: Any = orjson.Fragment if raw else orjson.loads
    parse_days = not raw
    empty = read("[]")
    unheld: dict[tuple[str, int], Any] | None = None
    """per (domain, level mask): its guide items, for a domain without stored lists"""
    district_kind = UnitKind.district.value
    result: list[CompletenessRow] = []
    append = result.append
    for unit in page:
        unit_code = unit["unit_code"]
        unit_name = unit["unit_name"]
        unit_kind = unit["unit_kind"]
        district_code = unit["district_code"]
        mask = quality.COUNTY if unit_kind == district_kind else quality.TOWNSHIP
        found_rows = by_unit[unit_code]
        found_rows.sort(key=_DOMAIN)
        gaps: tuple[list[str], ...] = ([], [], [], [], [], [], [], [])
        missing, lacking_in, flagged_in, absent_in, unpublished, blank_in, stale_in, late_in = gaps
        for found in found_rows:
            (
                _,
                domain_code,
                domain_name,
                is_pilot,
                applicable,
                not_applicable_reason,
                status,
                n_items,
                n_lacking,
                n_flagged,
                n_vague,
                n_unparsed,
                n_basis,
                n_body,
                n_guide,
                n_present,
                n_waived,
                version,
                published_on,
                published_url,
                first_published_on,
                lacking_items,
                absent_items,
                waived_items,
            ) = found[:_MARKS]
            marks = found[_MARKS:]
            states = shared_states.get(marks)
            if states is None:
                states = shared_states[marks] = {}
                for i, code in listed_codes:
                    if marks[2 * i]:
                        done_on = marks[2 * i + 1]
                        entry = entries.get((code, done_on))
                        if entry is None:
                            state, days, done = decide(code, done_on)
                            entry = entries[(code, done_on)] = {
                                "state": state.value,
                                "days": days,
                                "done_on": done,
                            }
                        states[code] = entry
            exists = n_items > 0
            if absent_items is None:  # no catalogue, or none of its lists written yet
                if unheld is None:
                    unheld = _guide_lists(session, scope, read)
                absent = unheld.get((domain_code, mask), empty)
                lacking = waived = empty
            else:
                absent = read(absent_items)
                lacking = read(lacking_items)
                waived = read(waived_items)
            n_absent = int(n_guide) - n_present - n_waived
            if applicable:
                if not exists:
                    missing.append(domain_code)
                if n_lacking:
                    lacking_in.append(f"{domain_code}({n_lacking})")
                if n_flagged:
                    flagged_in.append(f"{domain_code}({n_flagged})")
                if n_absent:
                    absent_in.append(f"{domain_code}({n_absent})")
                if version is None:
                    unpublished.append(domain_code)
            published: Published | None = None
            if version is not None:
                if parse_days:
                    published_on = _day(published_on)
                    first_published_on = _day(first_published_on)
                published = {
                    "version": version,
                    "published_on": published_on,
                    "url": published_url,
                    "first_published_on": first_published_on,
                }
            timely = timely_rows.get((unit_code, domain_code))
            if timely is not None:
                if timely["blank"]:
                    blank_in.append(f"{domain_code}({timely['blank']})")
                if timely["stale"]:
                    stale_in.append(f"{domain_code}({timely['stale']})")
                if timely["late"]:
                    late_in.append(f"{domain_code}({timely['late']})")
            append(
                {
                    "unit_code": unit_code,
                    "unit_name": unit_name,
                    "unit_kind": unit_kind,
                    "district_code": district_code,
                    "domain_code": domain_code,
                    "domain_name": domain_name,
                    "is_pilot": bool(is_pilot),
                    "applicable": bool(applicable),
                    "not_applicable_reason": not_applicable_reason,
                    "exists": exists,
                    "status": str(status) if exists and status else "missing",
                    "items": n_items,
                    "lacking": n_lacking,
                    "lacking_items": lacking,
                    "quality": {
                        "flagged": n_flagged,
                        "vague_time_limit": n_vague,
                        "unparsed_time_limit": n_unparsed,
                        "basis_without_document": n_basis,
                        "generic_responsible_body": n_body,
                    },
                    "coverage": {
                        "guide_items": int(n_guide),
                        "present": n_present,
                        "waived": n_waived,
                        "absent": n_absent,
                        "absent_items": absent,
                        "waived_items": waived,
                    },
                    "published": published,
                    "milestones": states,
                    "timeliness": None if timely is None else _row_timeliness(timely),
                }
            )
        unit["reasons"] = reasons(gaps)
    return result


_DOMAIN = itemgetter(1)
"""A page row's domain code: its order within its unit."""
_MARKS = 24
"""Where a page row's milestone columns begin (page_rows)."""


_GUIDE_LISTS: dict[tuple[Any, ...], dict[tuple[str, int], bytes]] = {}
"""The last guide read and its lists (the guide changes only when it is reloaded)."""


def guide_rows(_scope: Scope) -> Any:
    """Every guide item, in each domain's order: (domain, id, name, level mask)."""
    return sa.select(
        guides_t.c.domain_code, guides_t.c.id, guides_t.c.name, guides_t.c.level_mask
    ).order_by(guides_t.c.domain_code, guides_t.c.position, guides_t.c.id)


def _guide_lists(session: Session, scope: Scope, read: Any) -> dict[tuple[str, int], Any]:
    """Per (domain, level mask): every guide item of that level, as a catalogue that holds
    and waives nothing lists them absent (`read` of their JSON). The guide is read on each
    call; the lists are made again only when what it read differs from the last time."""
    rows = tuple(fetch(session, guide_rows, scope))
    made = _GUIDE_LISTS.get(rows)
    if made is None:
        lists: dict[tuple[str, int], list[GuideGap]] = defaultdict(list)
        for domain_code, guide_id, name, level_mask in rows:
            for mask in (quality.COUNTY, quality.TOWNSHIP):
                if level_mask & mask:
                    lists[(domain_code, mask)].append({"guide_item_id": guide_id, "name": name})
        _GUIDE_LISTS.clear()
        made = _GUIDE_LISTS[rows] = {key: orjson.dumps(value) for key, value in lists.items()}
    return {key: read(text) for key, text in made.items()}


REASONS = (
    ("缺少目录的领域", "domains without a catalogue"),
    ("有事项缺要素的领域", "domains with items lacking attributes"),
    ("有质量问题事项的领域", "domains with flagged items"),
    ("未覆盖标准指引事项的领域", "domains missing standard-guide items"),
    ("截至审计日未发布的领域", "domains not published by as_of"),
    ("有空白栏目的领域", "domains with blank items"),
    ("有不更新栏目的领域", "domains with stale items"),
    ("有逾期公开记录的领域", "domains with late records"),
)
"""Why a unit lost points: one sentence per kind of gap, in this order, naming the domains
(with how many, where a count says more) of the unit's rows that show it. The first five
count the domains the unit applies; the timeliness ones (blank, stale, late) every row."""


def reasons(gaps: Sequence[Sequence[str]]) -> list[str]:
    """The sentences of REASONS for a unit's gaps (per kind, in REASONS order: the domains
    that show it, as they are named)."""
    return [
        f"{zh}：{'、'.join(codes)} / {en}: {', '.join(codes)}"
        for (zh, en), codes in zip(REASONS, gaps, strict=True)
        if codes
    ]


# -------------------------------------------------------------------------- statistics


def statistics_query(scope: Scope) -> Any:
    """Per unit: domains, first- and second-level items of the latest version published on
    or before as_of (what an annual report quotes).

    The latest versions (those with no later one published by as_of: an anti-join, one
    hash over the versions on PostgreSQL) are summed per unit, then joined to the units.
    Grouping the units' wide columns instead made PostgreSQL sort every catalogue of the
    nation on disk, and a max(number) per catalogue joined back sorted them again."""
    u = _scope_units(scope).cte("u")
    v = versions_t.alias("v")
    later = versions_t.alias("later")
    as_of = _as_of(scope)
    superseded = (
        sa.select(sa.literal_column("1"))
        .where(
            (later.c.catalogue_id == v.c.catalogue_id)
            & (later.c.number > v.c.number)
            & (later.c.published_on <= as_of)
        )
        .exists()
    )
    per_unit = (
        sa.select(
            v.c.unit_code,
            sa.func.sum(sa.case((v.c.item_count > 0, 1), else_=0)).label("domains"),
            sa.func.sum(v.c.first_level_count).label("first_level"),
            sa.func.sum(v.c.item_count).label("second_level"),
        )
        .where(v.c.published_on <= as_of, ~superseded)
        .group_by(v.c.unit_code)
    )
    if scope.district is not None:  # a few units: reach their versions through the index
        per_unit = per_unit.where(v.c.unit_code.in_(sa.select(u.c.code)))
    pu = per_unit.subquery("pu")

    def whole(column: Any, label: str) -> Any:  # an integer on every database
        return sa.cast(sa.func.coalesce(column, 0), sa.Integer).label(label)

    return (
        sa.select(
            u.c.code,
            u.c.name,
            sa.type_coerce(u.c.kind, sa.String).label("kind"),
            u.c.district_code,
            whole(pu.c.domains, "domains"),
            whole(pu.c.first_level, "first_level"),
            whole(pu.c.second_level, "second_level"),
        )
        .select_from(u)
        .outerjoin(pu, pu.c.unit_code == u.c.code)
        .order_by(u.c.district_code, u.c.kind != UnitKind.district.value, u.c.code)
    )


def statistics(session: Session, scope: Scope, *, limit: int, offset: int) -> StatisticsReport:
    """Per unit (the page) and per district × level and level (every unit in scope): the
    levels are summed over the rows as fetched; only the page's units become models."""
    rows = fetch(session, statistics_query, scope)
    district_kind = UnitKind.district.value
    names: dict[str, str] = {}
    sums: dict[tuple[str | None, str], list[int]] = {}
    """units, units with catalogues, domains, first-level items, second-level items"""
    for code, name, kind, district_code, domains, first, second in rows:
        level = GUIDE_LEVEL[kind]
        if kind == district_kind:
            names[code] = name
        for key in ((district_code, level), (None, level)):
            found = sums.get(key)
            if found is None:
                found = sums[key] = [0, 0, 0, 0, 0]
            found[0] += 1
            if domains:
                found[1] += 1
                found[2] += domains
            found[3] += first
            found[4] += second
    levels = [
        LevelStatistics(
            district_code=district,
            district_name=names.get(district) if district else None,
            level=level,
            units=units,
            units_with_catalogues=with_catalogues,
            domains=int(domains),
            first_level_items=int(first),
            second_level_items=int(second),
        )
        for (district, level), (units, with_catalogues, domains, first, second) in sorted(
            sums.items(), key=lambda pair: (pair[0][0] is None, pair[0][0] or "", pair[0][1])
        )
    ]
    units = [
        UnitStatistics(
            unit_code=code,
            unit_name=name,
            unit_kind=kind,
            level=GUIDE_LEVEL[kind],
            district_code=district_code,
            domains=int(domains),
            first_level_items=int(first),
            second_level_items=int(second),
        )
        for code, name, kind, district_code, domains, first, second in rows[offset : offset + limit]
    ]
    return StatisticsReport(
        as_of=scope.as_of,
        district=scope.district.code if scope.district else None,
        source="published",
        total_units=len(rows),
        offset=offset,
        limit=limit,
        next_offset=paging.after_offset(offset, limit, len(rows)),
        units=units,
        levels=levels,
    )
