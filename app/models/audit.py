"""审计 / the city office's audit: completeness rows, scores, district roll-up, statistics."""

from datetime import date

from pydantic import BaseModel
from typing_extensions import TypedDict

# The completeness report is made of TypedDicts: the service builds plain dicts and the route
# serialises them once with orjson (a report can hold thousands of rows and tens of thousands
# of leaves; a dict costs a fraction of a model to build). They still declare the response
# in the OpenAPI schema, exactly as models would. The statistics report stays pydantic.


class LackingItem(TypedDict):
    """An item that lacks required attributes: which, and its quality flags."""

    id: int
    name: str
    missing: list[str]
    flags: list[str]


class GuideGap(TypedDict):
    """A standard-guide item the catalogue neither holds (by normalised name) nor waives."""

    guide_item_id: int
    name: str


class GuideWaived(TypedDict):
    guide_item_id: int
    name: str
    reason: str


class Coverage(TypedDict):
    """标准指引覆盖 / standard-guide coverage for the unit's level."""

    guide_items: int
    present: int
    waived: int
    absent: int
    absent_items: list[GuideGap]
    waived_items: list[GuideWaived]


class QualityCounts(TypedDict):
    """Items per quality flag (an item may carry several)."""

    flagged: int
    vague_time_limit: int
    unparsed_time_limit: int
    basis_without_document: int
    generic_responsible_body: int


class Published(TypedDict):
    """The latest version published on or before as_of."""

    version: int
    published_on: date
    url: str
    first_published_on: date


class MilestoneEntry(TypedDict):
    """A milestone's state for the row as of the date (app/services/milestones.py decides)."""

    state: str
    days: int
    done_on: date | None


class RowTimeliness(TypedDict):
    """时效 / the row's figures in the timeliness audit (GET /audit/timeliness, same as_of):
    the latest version published by as_of, its items, their records and gaps."""

    version: int
    items: int
    records: int
    on_time: int
    late: int
    unknown: int
    blank: int
    stale: int


class CompletenessRow(TypedDict):
    """One unit × domain."""

    unit_code: str
    unit_name: str
    unit_kind: str
    district_code: str
    domain_code: str
    domain_name: str
    is_pilot: bool
    applicable: bool
    not_applicable_reason: str | None
    exists: bool
    status: str
    """draft | compiled | published, or missing (no item at all)."""
    items: int
    lacking: int
    lacking_items: list[LackingItem]
    quality: QualityCounts
    coverage: Coverage
    published: Published | None
    milestones: dict[str, MilestoneEntry]
    timeliness: RowTimeliness | None
    """null when no version was published by as_of."""


class ScoreComponent(TypedDict):
    name: str
    label: str
    weight: float
    numerator: int
    denominator: int
    ratio: float
    points: float
    lost: float
    reason: str | None
    """why the ratio is what it is when its denominator is empty (e.g. 没有事项 / no
    items), in Chinese and English; null otherwise."""


class UnitScore(TypedDict):
    unit_code: str
    unit_name: str
    unit_kind: str
    district_code: str
    domains: int
    applicable: int
    score: float
    components: list[ScoreComponent]
    reasons: list[str]
    """Why the unit lost points, in words (only for the units on this page)."""


class DistrictRollup(TypedDict):
    """A district and its streets and towns."""

    district_code: str
    district_name: str
    units: int
    score: float
    """mean of the unit scores (the district's own and each street's or town's)."""
    district_score: float | None
    townships_score: float | None
    components: dict[str, float]
    """mean ratio per component over the units."""
    rank: int


class CompletenessReport(TypedDict):
    as_of: date
    district: str | None
    domain: str | None
    weights: dict[str, float]
    total_units: int
    offset: int
    limit: int
    next_offset: int | None
    """pass as `offset` for the next page of units; null on the last page."""
    rows: list[CompletenessRow]
    units: list[UnitScore]
    districts: list[DistrictRollup]


class UnitStatistics(BaseModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    level: str
    district_code: str
    domains: int
    first_level_items: int
    second_level_items: int


class LevelStatistics(BaseModel):
    """One district's figures at one level (县级 = its own, 乡级 = its streets and towns),
    or, with district_code null, the whole scope's."""

    district_code: str | None
    district_name: str | None
    level: str
    units: int
    units_with_catalogues: int
    domains: int
    first_level_items: int
    second_level_items: int


class StatisticsReport(BaseModel):
    as_of: date
    district: str | None
    source: str
    total_units: int
    offset: int
    limit: int
    next_offset: int | None
    units: list[UnitStatistics]
    levels: list[LevelStatistics]
