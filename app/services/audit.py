"""审计 / the city office's audit, set-based: a fixed number of SQL statements per request,
whatever the number of units and items; the database aggregates, Python only scores.

Statements per completeness request: the unit aggregate (every unit in scope, for the
district ranking), the rows of the page's units, their lacking or flagged items, their guide
items, and two for the milestone states (milestones.states_for). Statistics: one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from app.models.audit import (
    CompletenessReport,
    CompletenessRow,
    Coverage,
    DistrictRollup,
    GuideGap,
    GuideWaived,
    LackingItem,
    LevelStatistics,
    MilestoneEntry,
    Published,
    QualityCounts,
    ScoreComponent,
    StatisticsReport,
    UnitScore,
    UnitStatistics,
)
from app.models.common import UnitKind
from app.models.domain import Domain
from app.models.unit import Unit
from app.services import milestones, quality

TABLES = SQLModel.metadata.tables
units_t = TABLES["units"]
domains_t = TABLES["domains"]
catalogues_t = TABLES["catalogues"]
items_t = TABLES["items"]
guides_t = TABLES["guide_items"]
waivers_t = TABLES["guide_waivers"]
versions_t = TABLES["catalogue_versions"]

AUDITED_KINDS = (UnitKind.district, UnitKind.street, UnitKind.town)
LEVEL_OF = {UnitKind.district: "县级", UnitKind.street: "乡级", UnitKind.town: "乡级"}

# The score: 100 points over five components (docs/audit.md).
WEIGHTS: dict[str, float] = {
    "catalogues": 25.0,
    "attributes": 25.0,
    "coverage": 20.0,
    "quality": 10.0,
    "published": 20.0,
}
LABELS: dict[str, str] = {
    "catalogues": "目录齐全（适用领域有目录）",
    "attributes": "要素齐全（二级事项八要素）",
    "coverage": "覆盖标准指引",
    "quality": "内容质量（时限、依据、主体）",
    "published": "按时发布（截至审计日）",
}


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
        code = scope.district.code
        query = query.where((units_t.c.code == code) | (units_t.c.parent_code == code))
    return query


def _scope_domains(scope: Scope) -> Any:
    query = sa.select(domains_t.c.code, domains_t.c.name, domains_t.c.is_pilot)
    if scope.domain is not None:
        query = query.where(domains_t.c.code == scope.domain.code)
    return query


def _narrow(scope: Scope, unit_codes: Any) -> bool:
    return scope.district is not None or scope.domain is not None or unit_codes is not None


def _in_scope(query: Any, scope: Scope, unit_codes: Any) -> Any:
    """Restrict a query over units ⋈ catalogues to the audited units and domains.

    Each per-catalogue aggregate starts from the base tables (not from a shared CTE), so the
    planner can drive it from the few catalogues in scope through the items' indexes for a
    district; for every unit, the outer join in _base does the restricting instead.
    """
    query = query.where(units_t.c.kind.in_([k.value for k in AUDITED_KINDS]))
    if scope.district is not None:
        code = scope.district.code
        query = query.where((units_t.c.code == code) | (units_t.c.parent_code == code))
    if scope.domain is not None:
        query = query.where(catalogues_t.c.domain_code == scope.domain.code)
    if unit_codes is not None:
        query = query.where(units_t.c.code.in_(unit_codes))
    return query


def _catalogues_in_scope(*columns: Any) -> Any:
    return sa.select(*columns).select_from(
        units_t.join(catalogues_t, catalogues_t.c.unit_code == units_t.c.code)
    )


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


def _catalogue_stats(scope: Scope, unit_codes: Any) -> Any:
    """One row per catalogue in scope with every count the audit needs (a SELECT).

    Each aggregate starts from the base tables: for a district (or a page of units) the
    planner drives it from the few catalogues in scope through the items' indexes; for every
    unit it is one pass over a covering index, and the outer query does the restricting.
    """
    narrow = _narrow(scope, unit_codes)

    def scoped(query: Any) -> Any:
        if not narrow:
            return query
        return _in_scope(
            query.join(units_t, units_t.c.code == catalogues_t.c.unit_code), scope, unit_codes
        )

    item_columns = (
        items_t.c.catalogue_id,
        sa.func.count().label("n_items"),
        sa.func.sum(sa.case((items_t.c.lacking > 0, 1), else_=0)).label("n_lacking"),
        sa.func.sum(_bit(items_t.c.flags, quality.QUALITY_MASK)).label("n_flagged"),
        sa.func.sum(_bit(items_t.c.flags, quality.VAGUE_TIME_LIMIT)).label("n_vague"),
        sa.func.sum(_bit(items_t.c.flags, quality.UNPARSED_TIME_LIMIT)).label("n_unparsed"),
        sa.func.sum(_bit(items_t.c.flags, quality.BASIS_WITHOUT_DOCUMENT)).label("n_basis"),
        sa.func.sum(_bit(items_t.c.flags, quality.GENERIC_BODY)).label("n_body"),
    )
    counted = sa.select(*item_columns)  # every unit: one pass over (catalogue_id, lacking, flags)
    if narrow:
        counted = scoped(
            sa.select(*item_columns)
            .select_from(catalogues_t)
            .join(items_t, items_t.c.catalogue_id == catalogues_t.c.id)
        )
    item_counts = counted.group_by(items_t.c.catalogue_id).subquery("ic")

    # Present: an item of the catalogue has the guide item's normalised name; counted per
    # level, so that the unit's kind is needed only outside.
    def present_at(level: int) -> Any:
        at_level = guides_t.c.level_mask.op("&")(level) != 0
        return sa.func.count(sa.distinct(sa.case((at_level, guides_t.c.id))))

    present = (
        scoped(
            sa.select(
                catalogues_t.c.id.label("cid"),
                present_at(quality.COUNTY).label("n_county"),
                present_at(quality.TOWNSHIP).label("n_township"),
            )
            .select_from(catalogues_t)
            .join(items_t, items_t.c.catalogue_id == catalogues_t.c.id)
            .join(
                guides_t,
                (guides_t.c.domain_code == catalogues_t.c.domain_code)
                & (guides_t.c.name_key == items_t.c.name_key),
            )
        )
        .group_by(catalogues_t.c.id)
        .subquery("present")
    )
    # Waived: a waiver for a guide item of the unit's level that no item matches.
    applies = guides_t.c.level_mask.op("&")(_unit_mask(units_t.c.kind)) != 0
    waived = (
        _in_scope(
            _catalogues_in_scope(waivers_t.c.catalogue_id, sa.func.count().label("n_waived"))
            .join(waivers_t, waivers_t.c.catalogue_id == catalogues_t.c.id)
            .join(guides_t, (guides_t.c.id == waivers_t.c.guide_item_id) & applies)
            .where(
                ~sa.exists().where(
                    (items_t.c.catalogue_id == waivers_t.c.catalogue_id)
                    & (items_t.c.name_key == guides_t.c.name_key)
                )
            ),
            scope,
            unit_codes,
        )
        .group_by(waivers_t.c.catalogue_id)
        .subquery("waived")
    )
    published = (
        scoped(
            sa.select(
                versions_t.c.catalogue_id,
                sa.func.max(versions_t.c.number).label("version"),
                sa.func.min(versions_t.c.published_on).label("first_published_on"),
            )
            .select_from(catalogues_t)
            .join(versions_t, versions_t.c.catalogue_id == catalogues_t.c.id)
            .where(versions_t.c.published_on <= scope.as_of)
        )
        .group_by(versions_t.c.catalogue_id)
        .subquery("pub")
    )
    query = (
        sa.select(
            catalogues_t.c.id.label("catalogue_id"),
            catalogues_t.c.unit_code,
            catalogues_t.c.domain_code,
            catalogues_t.c.applicable,
            catalogues_t.c.not_applicable_reason,
            catalogues_t.c.status,
            sa.func.coalesce(item_counts.c.n_items, 0).label("n_items"),
            sa.func.coalesce(item_counts.c.n_lacking, 0).label("n_lacking"),
            sa.func.coalesce(item_counts.c.n_flagged, 0).label("n_flagged"),
            sa.func.coalesce(item_counts.c.n_vague, 0).label("n_vague"),
            sa.func.coalesce(item_counts.c.n_unparsed, 0).label("n_unparsed"),
            sa.func.coalesce(item_counts.c.n_basis, 0).label("n_basis"),
            sa.func.coalesce(item_counts.c.n_body, 0).label("n_body"),
            sa.func.coalesce(present.c.n_county, 0).label("n_county"),
            sa.func.coalesce(present.c.n_township, 0).label("n_township"),
            sa.func.coalesce(waived.c.n_waived, 0).label("n_waived"),
            published.c.version,
            published.c.first_published_on,
        )
        .select_from(catalogues_t)
        .outerjoin(item_counts, item_counts.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(present, present.c.cid == catalogues_t.c.id)
        .outerjoin(waived, waived.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(published, published.c.catalogue_id == catalogues_t.c.id)
    )
    if scope.domain is not None:
        query = query.where(catalogues_t.c.domain_code == scope.domain.code)
    return query


def _base(scope: Scope, unit_codes: Any) -> Any:
    """One row per unit × domain of the given units with every count the audit needs."""
    u = _scope_units(scope).where(units_t.c.code.in_(unit_codes)).cte("u")
    d = _scope_domains(scope).cte("d")
    cs = _catalogue_stats(scope, unit_codes).subquery("cs")
    gt = _guide_totals()
    county = u.c.mask == quality.COUNTY
    return (
        sa.select(
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            u.c.kind.label("unit_kind"),
            u.c.district_code,
            d.c.code.label("domain_code"),
            d.c.name.label("domain_name"),
            d.c.is_pilot,
            cs.c.catalogue_id,
            sa.func.coalesce(cs.c.applicable, sa.true()).label("applicable"),
            cs.c.not_applicable_reason,
            cs.c.status,
            sa.func.coalesce(cs.c.n_items, 0).label("n_items"),
            sa.func.coalesce(cs.c.n_lacking, 0).label("n_lacking"),
            sa.func.coalesce(cs.c.n_flagged, 0).label("n_flagged"),
            sa.func.coalesce(cs.c.n_vague, 0).label("n_vague"),
            sa.func.coalesce(cs.c.n_unparsed, 0).label("n_unparsed"),
            sa.func.coalesce(cs.c.n_basis, 0).label("n_basis"),
            sa.func.coalesce(cs.c.n_body, 0).label("n_body"),
            sa.func.coalesce(sa.case((county, gt.c.county), else_=gt.c.township), 0).label(
                "n_guide"
            ),
            sa.func.coalesce(sa.case((county, cs.c.n_county), else_=cs.c.n_township), 0).label(
                "n_present"
            ),
            sa.func.coalesce(cs.c.n_waived, 0).label("n_waived"),
            cs.c.version,
            cs.c.first_published_on,
        )
        .select_from(u)
        .join(d, sa.true())
        .outerjoin(cs, (cs.c.unit_code == u.c.code) & (cs.c.domain_code == d.c.code))
        .outerjoin(gt, gt.c.domain_code == d.c.code)
    )


def unit_aggregate(scope: Scope) -> Any:
    """The raw aggregate the audit needs: per unit, the numerators and denominators of every
    score component (what bench/audit.py times against the endpoint).

    It reads catalogues, not unit × domain pairs: a domain without a catalogue counts as
    applicable, missing and uncovered, so the per-unit totals are the scope's domain count
    and guide size less what the unit's catalogues declare not applicable.
    """
    u = _scope_units(scope).cte("u")
    d = _scope_domains(scope).subquery("d")
    cs = _catalogue_stats(scope, None).subquery("cs")
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
    county = u.c.mask == quality.COUNTY
    ok = cs.c.applicable == sa.true()
    excluded = cs.c.applicable == sa.false()

    def when(condition: Any, value: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    guide_here = sa.case((county, gt.c.county), else_=gt.c.township)
    present_here = sa.case((county, cs.c.n_county), else_=cs.c.n_township)
    return (
        sa.select(
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            u.c.kind.label("unit_kind"),
            u.c.district_code,
            sa.func.max(level.c.domains).label("domains"),
            (sa.func.max(level.c.domains) - when(excluded, 1)).label("applicable"),
            when(ok & (cs.c.n_items > 0), 1).label("existing"),
            when(ok & cs.c.version.is_not(None), 1).label("published"),
            when(ok, cs.c.n_items).label("items"),
            when(ok, cs.c.n_lacking).label("lacking"),
            when(ok, cs.c.n_flagged).label("flagged"),
            (
                sa.func.max(sa.case((county, level.c.county), else_=level.c.township))
                - when(excluded, sa.func.coalesce(guide_here, 0))
            ).label("guide"),
            when(ok, present_here + cs.c.n_waived).label("covered"),
        )
        .select_from(u)
        .join(level, sa.true())
        .outerjoin(cs, cs.c.unit_code == u.c.code)
        .outerjoin(gt, gt.c.domain_code == cs.c.domain_code)
        .group_by(u.c.code, u.c.name, u.c.kind, u.c.district_code)
    )


def page_rows(scope: Scope, codes: Sequence[str]) -> Any:
    """The rows (unit × domain) of a page of units, with the published version's date/URL."""
    base = _base(scope, list(codes)).subquery("base")
    version = versions_t.alias("pv")
    return sa.select(base, version.c.published_on, version.c.published_url).outerjoin(
        version,
        (version.c.catalogue_id == base.c.catalogue_id) & (version.c.number == base.c.version),
    )


# ------------------------------------------------------------------------------ scores


def _component(name: str, numerator: int, denominator: int, *, empty: float) -> ScoreComponent:
    ratio = numerator / denominator if denominator else empty
    weight = WEIGHTS[name]
    points = round(weight * ratio, 2)
    return ScoreComponent(
        name=name,
        label=LABELS[name],
        weight=weight,
        numerator=numerator,
        denominator=denominator,
        ratio=round(ratio, 4),
        points=points,
        lost=round(weight - points, 2),
    )


def components(row: Any) -> list[ScoreComponent]:
    """The score's components for one unit aggregate row (docs/audit.md).

    A unit that declared every domain not applicable has nothing to lose (ratio 1). Otherwise
    an empty denominator means the unit has nothing where it should: no items → 0; only the
    guide may be empty for a level, and then there is nothing to cover (ratio 1).
    """
    nothing_required = int(row.applicable or 0) == 0
    empty = 1.0 if nothing_required else 0.0
    items = int(row.items or 0)
    return [
        _component("catalogues", int(row.existing or 0), int(row.applicable or 0), empty=empty),
        _component("attributes", items - int(row.lacking or 0), items, empty=empty),
        _component("coverage", int(row.covered or 0), int(row.guide or 0), empty=1.0),
        _component("quality", items - int(row.flagged or 0), items, empty=empty),
        _component("published", int(row.published or 0), int(row.applicable or 0), empty=empty),
    ]


def _rank(scores: list[tuple[str, float]]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4), best score first."""
    ordered = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    ranks: dict[str, int] = {}
    for position, (code, score) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        ranks[code] = ranks[previous[0]] if previous and previous[1] == score else position
    return ranks


def rollup(scored: list[UnitScore]) -> list[DistrictRollup]:
    """Per district: the mean of its units' scores (itself and its streets and towns)."""
    groups: dict[str, list[UnitScore]] = defaultdict(list)
    for unit in scored:
        groups[unit.district_code].append(unit)
    names = {u.unit_code: u.unit_name for u in scored if u.unit_kind == UnitKind.district.value}
    result: list[DistrictRollup] = []
    for code, members in groups.items():
        own = [m.score for m in members if m.unit_kind == UnitKind.district.value]
        townships = [m.score for m in members if m.unit_kind != UnitKind.district.value]
        result.append(
            DistrictRollup(
                district_code=code,
                district_name=names.get(code, code),
                units=len(members),
                score=round(sum(m.score for m in members) / len(members), 2),
                district_score=own[0] if own else None,
                townships_score=round(sum(townships) / len(townships), 2) if townships else None,
                components={
                    name: round(
                        sum(next(c.ratio for c in m.components if c.name == name) for m in members)
                        / len(members),
                        4,
                    )
                    for name in WEIGHTS
                },
                rank=0,
            )
        )
    ranks = _rank([(r.district_code, r.score) for r in result])
    for entry in result:
        entry.rank = ranks[entry.district_code]
    return sorted(result, key=lambda r: (r.rank, r.district_code))


# ------------------------------------------------------------------------- milestones


def milestone_states(
    session: Session, scope: Scope, unit_codes: Sequence[str]
) -> dict[tuple[str, str], dict[str, MilestoneEntry]]:
    """Each milestone's state per unit × domain of the page, as of scope.as_of.

    The states come from app/services/milestones.py, the one place they are decided: two
    statements for every milestone and every unit on the page.
    """
    states = milestones.state_tuples(
        session,
        as_of=scope.as_of,
        district=scope.district.code if scope.district else None,
        domain=scope.domain.code if scope.domain else None,
        units=unit_codes,
    )
    result: dict[tuple[str, str], dict[str, MilestoneEntry]] = defaultdict(dict)
    for (code, unit_code, domain_code), (state, days, done_on) in states.items():
        result[(unit_code, domain_code)][code] = MilestoneEntry(
            state=state.value, days=days, done_on=done_on
        )
    return result


# ------------------------------------------------------------------------ completeness


def completeness(session: Session, scope: Scope, *, limit: int, offset: int) -> CompletenessReport:
    """The audit: rows for a page of units; scores and the district ranking for all of them."""
    connection = session.connection()
    aggregate = sorted(
        connection.execute(unit_aggregate(scope)).all(),
        # districts by code, each before its streets and towns
        key=lambda r: (r.district_code or "", r.unit_kind != UnitKind.district.value, r.unit_code),
    )
    scored = [
        UnitScore(
            unit_code=row.unit_code,
            unit_name=row.unit_name,
            unit_kind=row.unit_kind,
            district_code=row.district_code,
            domains=int(row.domains),
            applicable=int(row.applicable or 0),
            score=round(sum(c.points for c in parts), 2),
            components=parts,
            reasons=[],
        )
        for row in aggregate
        for parts in (components(row),)
    ]
    districts = rollup(scored)
    page = scored[offset : offset + limit]
    order = {unit.unit_code: position for position, unit in enumerate(page)}
    found = list(connection.execute(page_rows(scope, list(order)))) if page else []
    found.sort(key=lambda r: (order[r.unit_code], r.domain_code))
    rows = _rows(session, scope, list(order), found) if page else []
    by_unit: dict[str, list[CompletenessRow]] = defaultdict(list)
    for row in rows:
        by_unit[row.unit_code].append(row)
    for unit in page:
        unit.reasons = reasons(by_unit[unit.unit_code])
    return CompletenessReport(
        as_of=scope.as_of,
        district=scope.district.code if scope.district else None,
        domain=scope.domain.code if scope.domain else None,
        weights=WEIGHTS,
        total_units=len(scored),
        offset=offset,
        limit=limit,
        next_offset=offset + limit if offset + limit < len(scored) else None,
        rows=rows,
        units=page,
        districts=districts,
    )


def _rows(
    session: Session, scope: Scope, codes: list[str], rows: list[Any]
) -> list[CompletenessRow]:
    flagged = _flagged_items(session, scope, codes)
    guide = _guide_items(session, scope, codes)
    states = milestone_states(session, scope, codes)
    result: list[CompletenessRow] = []
    for row in rows:
        key = (row.unit_code, row.domain_code)
        absent, waived = guide.get(key, ([], []))
        exists = int(row.n_items) > 0
        result.append(
            CompletenessRow(
                unit_code=row.unit_code,
                unit_name=row.unit_name,
                unit_kind=row.unit_kind,
                district_code=row.district_code,
                domain_code=row.domain_code,
                domain_name=row.domain_name,
                is_pilot=bool(row.is_pilot),
                applicable=bool(row.applicable),
                not_applicable_reason=row.not_applicable_reason,
                exists=exists,
                status=str(row.status) if exists and row.status else "missing",
                items=int(row.n_items),
                lacking=int(row.n_lacking),
                lacking_items=flagged.get(key, []),
                quality=QualityCounts(
                    flagged=int(row.n_flagged),
                    vague_time_limit=int(row.n_vague),
                    unparsed_time_limit=int(row.n_unparsed),
                    basis_without_document=int(row.n_basis),
                    generic_responsible_body=int(row.n_body),
                ),
                coverage=Coverage(
                    guide_items=int(row.n_guide),
                    present=int(row.n_present),
                    waived=int(row.n_waived),
                    absent=len(absent),
                    absent_items=absent,
                    waived_items=waived,
                ),
                published=Published(
                    version=row.version,
                    published_on=row.published_on,
                    url=row.published_url,
                    first_published_on=row.first_published_on,
                )
                if row.version is not None
                else None,
                milestones=states.get(key, {}),
            )
        )
    return result


def _flagged_items(
    session: Session, scope: Scope, codes: list[str]
) -> dict[tuple[str, str], list[LackingItem]]:
    """The items of the page's units that lack a required attribute (with their flags too);
    items that only carry a flag are counted per flag in the row, not listed."""
    query = (
        sa.select(
            catalogues_t.c.unit_code,
            catalogues_t.c.domain_code,
            items_t.c.id,
            items_t.c.name,
            items_t.c.flags,
        )
        .join(catalogues_t, catalogues_t.c.id == items_t.c.catalogue_id)
        .where(catalogues_t.c.unit_code.in_(codes))
        .where(items_t.c.lacking > 0)
        .order_by(items_t.c.catalogue_id, items_t.c.position, items_t.c.id)
    )
    if scope.domain is not None:
        query = query.where(catalogues_t.c.domain_code == scope.domain.code)
    result: dict[tuple[str, str], list[LackingItem]] = defaultdict(list)
    for unit_code, domain_code, item_id, name, flags in session.connection().execute(query).all():
        result[(unit_code, domain_code)].append(
            LackingItem(
                id=item_id,
                name=name,
                missing=quality.missing_names(flags),
                flags=quality.flag_names(flags),
            )
        )
    return result


def _guide_items(
    session: Session, scope: Scope, codes: list[str]
) -> dict[tuple[str, str], tuple[list[GuideGap], list[GuideWaived]]]:
    """For the page's units: the guide items of their level that are absent, and the waived."""
    u = _scope_units(scope).where(units_t.c.code.in_(codes)).cte("pu")
    cat = catalogues_t.alias("c")
    present = sa.exists().where(
        (items_t.c.catalogue_id == cat.c.id) & (items_t.c.name_key == guides_t.c.name_key)
    )
    query = (
        sa.select(
            u.c.code,
            guides_t.c.domain_code,
            guides_t.c.id,
            guides_t.c.name,
            waivers_t.c.reason,
        )
        .select_from(u)
        .join(guides_t, guides_t.c.level_mask.op("&")(u.c.mask) != 0)
        .outerjoin(
            cat, (cat.c.unit_code == u.c.code) & (cat.c.domain_code == guides_t.c.domain_code)
        )
        .outerjoin(
            waivers_t,
            (waivers_t.c.catalogue_id == cat.c.id) & (waivers_t.c.guide_item_id == guides_t.c.id),
        )
        .where(~present)
        .order_by(u.c.code, guides_t.c.domain_code, guides_t.c.position, guides_t.c.id)
    )
    if scope.domain is not None:
        query = query.where(guides_t.c.domain_code == scope.domain.code)
    result: dict[tuple[str, str], tuple[list[GuideGap], list[GuideWaived]]] = {}
    for unit_code, domain_code, guide_id, name, reason in session.connection().execute(query).all():
        absent, waived = result.setdefault((unit_code, domain_code), ([], []))
        if reason is None:
            absent.append(GuideGap(guide_item_id=guide_id, name=name))
        else:
            waived.append(GuideWaived(guide_item_id=guide_id, name=name, reason=reason))
    return result


def reasons(rows: list[CompletenessRow]) -> list[str]:
    """Why a unit lost points, from its rows: one sentence per kind of gap."""
    applicable = [r for r in rows if r.applicable]
    said: list[str] = []

    def say(zh: str, en: str, codes: list[str]) -> None:
        if codes:
            said.append(f"{zh}：{'、'.join(codes)} / {en}: {', '.join(codes)}")

    say(
        "缺少目录的领域",
        "domains without a catalogue",
        [r.domain_code for r in applicable if not r.exists],
    )
    say(
        "有事项缺要素的领域",
        "domains with items lacking attributes",
        [f"{r.domain_code}({r.lacking})" for r in applicable if r.lacking],
    )
    say(
        "有质量问题事项的领域",
        "domains with flagged items",
        [f"{r.domain_code}({r.quality.flagged})" for r in applicable if r.quality.flagged],
    )
    say(
        "未覆盖标准指引事项的领域",
        "domains missing standard-guide items",
        [f"{r.domain_code}({r.coverage.absent})" for r in applicable if r.coverage.absent],
    )
    say(
        "截至审计日未发布的领域",
        "domains not published by as_of",
        [r.domain_code for r in applicable if r.published is None],
    )
    return said


# -------------------------------------------------------------------------- statistics


def statistics_query(scope: Scope) -> Any:
    """Per unit: domains, first- and second-level items of the latest version published on
    or before as_of (what an annual report quotes)."""
    u = _scope_units(scope).cte("u")
    latest = (
        sa.select(
            versions_t.c.catalogue_id,
            sa.func.max(versions_t.c.number).label("number"),
        )
        .where(versions_t.c.published_on <= scope.as_of)
        .group_by(versions_t.c.catalogue_id)
        .subquery("latest")
    )
    v = versions_t.alias("v")
    has_items = sa.case((v.c.item_count > 0, 1), else_=0)
    return (
        sa.select(
            u.c.code,
            u.c.name,
            u.c.kind,
            u.c.district_code,
            sa.func.coalesce(sa.func.sum(has_items), 0).label("domains"),
            sa.func.coalesce(sa.func.sum(v.c.first_level_count), 0).label("first_level"),
            sa.func.coalesce(sa.func.sum(v.c.item_count), 0).label("second_level"),
        )
        .select_from(u)
        .outerjoin(catalogues_t, catalogues_t.c.unit_code == u.c.code)
        .outerjoin(latest, latest.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(v, (v.c.catalogue_id == latest.c.catalogue_id) & (v.c.number == latest.c.number))
        .group_by(u.c.code, u.c.name, u.c.kind, u.c.district_code)
        .order_by(u.c.district_code, u.c.kind != UnitKind.district.value, u.c.code)
    )


def statistics(session: Session, scope: Scope, *, limit: int, offset: int) -> StatisticsReport:
    rows = session.connection().execute(statistics_query(scope)).all()
    units = [
        UnitStatistics(
            unit_code=row.code,
            unit_name=row.name,
            unit_kind=row.kind,
            level=LEVEL_OF[UnitKind(row.kind)],
            district_code=row.district_code,
            domains=int(row.domains),
            first_level_items=int(row.first_level),
            second_level_items=int(row.second_level),
        )
        for row in rows
    ]
    names = {u.unit_code: u.unit_name for u in units if u.unit_kind == UnitKind.district.value}
    groups: dict[tuple[str | None, str], list[UnitStatistics]] = defaultdict(list)
    for unit in units:
        groups[(unit.district_code, unit.level)].append(unit)
        groups[(None, unit.level)].append(unit)
    levels = [
        LevelStatistics(
            district_code=district,
            district_name=names.get(district) if district else None,
            level=level,
            units=len(members),
            units_with_catalogues=sum(1 for m in members if m.domains),
            domains=sum(m.domains for m in members),
            first_level_items=sum(m.first_level_items for m in members),
            second_level_items=sum(m.second_level_items for m in members),
        )
        for (district, level), members in sorted(
            groups.items(), key=lambda pair: (pair[0][0] is None, pair[0][0] or "", pair[0][1])
        )
    ]
    return StatisticsReport(
        as_of=scope.as_of,
        district=scope.district.code if scope.district else None,
        source="published",
        total_units=len(units),
        offset=offset,
        limit=limit,
        next_offset=offset + limit if offset + limit < len(units) else None,
        units=units[offset : offset + limit],
        levels=levels,
    )
