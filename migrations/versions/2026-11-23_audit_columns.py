"""audit columns: items.name_key/flags, guide_items.name_key/level_mask,
catalogue_versions.first_level_count, and the audit's covering indexes

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-23 02:39:19.214537

"""
from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any, Literal

import sqlalchemy as sa
import sqlmodel
from alembic import op
from pydantic import BaseModel, Field

revision: str = '0004'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


# ---- the rules as they were when this revision was written (commit 4ee64cc) -------------
# Copied, not imported: app/rules changes with the product, and a migration must keep
# meaning what it meant. Rows written later are kept by the app; `python -m app check` and
# `python -m app recompute` bring older rows in line with the rules of the day.

DRAFTABLE_ATTRIBUTES: tuple[str, ...] = (
    "content",
    "basis",
    "time_limit",
    "responsible_body",
    "method",
    "channels",
    "audience",
)

Kind = Literal[
    "working_days",
    "natural_days",
    "realtime",
    "timely",
    "periodic",
    "permanent",
    "statutory",
    "unparsed",
]
Period = Literal["year", "half_year", "quarter", "month", "week"]
OffsetUnit = Literal["working_day", "day"]


class TimeLimitRule(BaseModel):
    """公开时限规则 / a parsed time limit; for compound texts the fields are the first clause's."""

    kind: Kind
    days: int | None = Field(default=None, ge=0)
    event: str | None = None
    before_event: bool = False
    scope: str | None = None
    period: Period | None = None
    count: int | None = Field(default=None, ge=0)
    deadline: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$")
    offset_unit: OffsetUnit | None = None
    statute: str | None = None
    legal_override: bool = False
    display_days: int | None = Field(default=None, ge=0)
    min_comment_days: int | None = Field(default=None, ge=0)
    clauses: list[TimeLimitRule] = Field(default_factory=list)
    text: str = ""


TimeLimitRule.model_rebuild()


# --------------------------------------------------------------------------- parsing

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CN_DIGITS |= {"八": 8, "九": 9}
_NUM = r"\d+|[零一二两三四五六七八九十百]+"

_DAYS = re.compile(
    rf"(?<![月\d])(?P<n>{_NUM})\s*个?\s*(?P<unit>工作日|自然日|日|天|周|星期)(?P<before>前)?"
)
# "批准后20内": a 日 lost in the source table; the number right after 后/之日起 still means days.
_DAYS_TYPO = re.compile(r"(?:后|之日起)\s*(?P<n>\d+)\s*内")
_STATUTE = re.compile(r"《(?P<statute>[^》]+)》[^,;。]*?规定的(?:时限|期限)")
_STATUTORY = re.compile(r"法定(?:时限|期限)")
_OVERRIDE = re.compile(r"另有规定|从其规定")
_DISPLAY = re.compile(rf"^公示(?:期)?(?:不少于)?(?P<n>{_NUM})\s*个?\s*(?:工作日|日|天)$")
_MIN_COMMENT = re.compile(rf"不(?:得)?少于\s*(?P<n>{_NUM})")
_PERMANENT = re.compile(r"永久公开|长期公开|常年公开|长期保留")
_TIMELY = re.compile(r"及时|按实际更新|随时更新|动态更新")
_WITH_EVENT = re.compile(
    r"^(?:在|于)?(?P<event>.+?)(?:时|的同时|同时)$|^随(?P<with>.+?)(?:一并|同时)?公开$"
)
_TRUNCATED = re.compile(r"\((?:其余)?被?截断\)|\.{3,}|…+")
_NUMBERED = re.compile(r"(?:^|(?<=[;,。\s]))\s*\d+[.、](?=\D)")
_PAREN = re.compile(r"\(([^()]*)\)")
_SCOPE_COLON = re.compile(r"^(?P<scope>[^:]{1,30}):(?P<rest>.+)$")
_SCOPE_QIZHONG = re.compile(r"^其中(?P<scope>.+?)(?:应当|应)(?P<rest>.+)$")

_PERIOD_WORDS: dict[str, Period] = {
    "年": "year",
    "半年": "half_year",
    "季度": "quarter",
    "季": "quarter",
    "月": "month",
    "周": "week",
    "星期": "week",
}
_EVERY = re.compile(r"每(?P<p>半年|年|季度|季|月|周|星期)")
_AT_LEAST = re.compile(
    rf"(?P<p>半年|年|季度|月|周)?至少(?:更新|公开)?(?P<c>{_NUM})次(?:/(?P<p2>半年|年|季度|月|周))?"
)
_YEAR_DEADLINE = re.compile(r"每年(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日|(?P<end>底|末))前?")
_PERIOD_OFFSET = re.compile(
    rf"每(?:半年|年|季度|季|月|周)(?:结束|期满|终了)?后(?P<n>{_NUM})\s*个?\s*(?P<unit>工作日|日|天)"
)


def _number(token: str) -> int | None:
    """Arabic or Chinese numerals up to the hundreds (二十, 十五, 七); None if unreadable."""
    if len(token) > 6:
        # No time limit runs to a million days; long digit runs are noise (and int() caps them).
        return None
    if token.isdigit():
        return int(token)
    total = 0
    current = 0
    for char in token:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, brackets and punctuation (２０, （）, ，；：) to ASCII.
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded)


def _segments(text: str) -> list[str]:
    """Split a compound text into clause candidates: parts, numbered items, side notes."""
    side_notes: list[str] = []

    def pull(match: re.Match[str]) -> str:
        inner = match.group(1)
        # Only brackets that carry a clause of their own become one; "(变更)" stays inline.
        if _DAYS.search(inner) or _OVERRIDE.search(inner) or ":" in inner:
            side_notes.append(inner)
            return ""
        return match.group(0)

    body = _PAREN.sub(pull, _TRUNCATED.sub("", text))
    body = _NUMBERED.sub(";", body)
    parts = re.split(r"[;,。]", body) + side_notes
    return [part.strip() for part in parts if part.strip()]


def _canonical_event(trigger: str) -> str | None:
    """Name the trigger in the guide's own words, folding the spelling variants together."""
    event = trigger
    if "在" in event:
        event = event.rsplit("在", 1)[1]
    event = re.sub(r"^(?:应当|应)?(?:自|从|于)", "", event)
    event = re.sub(r"(?:之日起|之日|以后|之后|后|起|时|个|之内)+$", "", event)
    event = event.replace("该", "").strip()
    if not event or event == "提前":
        return None
    if "变更" in event and re.search(r"形成|产生|获取", event):
        return "信息形成或变更"
    if "决定" in event and re.search(r"作出|形成|做出", event):
        return "作出行政决定"
    if re.search(r"(?:制作|制定)或获取", event):
        return "制作或获取信息"
    if "收到申请" in event:
        return "收到申请"
    if re.fullmatch(r"信息形成", event):
        return "信息形成"
    for word in ("批准", "批复"):
        if event.endswith(word) and "文件" not in event:
            return word
    return event


def _days_clause(segment: str, match: re.Match[str]) -> TimeLimitRule | None:
    n = _number(match.group("n"))
    if n is None:
        return None
    unit = match.group("unit")
    before = bool(match.group("before")) or "提前" in segment[: match.start()]
    kind: Kind = "working_days" if unit == "工作日" else "natural_days"
    days = n * 7 if unit in ("周", "星期") else n
    return TimeLimitRule(
        kind=kind,
        days=days,
        event=_canonical_event(segment[: match.start()]),
        before_event=before,
        text=segment,
    )


def _periodic_clause(segment: str) -> TimeLimitRule | None:
    every = _EVERY.search(segment)
    at_least = _AT_LEAST.search(segment)
    if every is not None:
        word: str | None = every.group("p")
    elif at_least is not None:
        word = at_least.group("p") or at_least.group("p2")
    else:
        return None
    if word is None:
        return None
    rule = TimeLimitRule(kind="periodic", period=_PERIOD_WORDS[word], text=segment)
    if at_least is not None:
        rule.count = _number(at_least.group("c"))
    if (deadline := _YEAR_DEADLINE.search(segment)) is not None:
        month = int(deadline.group("m"))
        if 1 <= month <= 12:
            last = _calendar.monthrange(2001, month)[1]
            day = last if deadline.group("end") else min(int(deadline.group("d")), last)
            rule.deadline = f"{month:02d}-{day:02d}"
    if (offset := _PERIOD_OFFSET.search(segment)) is not None:
        rule.days = _number(offset.group("n"))
        rule.offset_unit = "working_day" if offset.group("unit") == "工作日" else "day"
    return rule


def _clause(segment: str) -> TimeLimitRule | None:
    """One clause of a time limit, or None when the segment carries no time limit."""
    scope: str | None = None
    if (qizhong := _SCOPE_QIZHONG.match(segment)) is not None:
        scope, segment = qizhong.group("scope"), qizhong.group("rest")
    elif (colon := _SCOPE_COLON.match(segment)) is not None and not _DAYS.search(
        colon.group("scope")
    ):
        scope, segment = colon.group("scope"), colon.group("rest")
    rule = _clause_body(segment)
    if rule is not None:
        rule.scope = scope
    return rule


def _clause_body(segment: str) -> TimeLimitRule | None:
    if "*" in segment or segment in ("同上", "同前", "/", "-", "无"):
        return TimeLimitRule(kind="unparsed", text=segment)
    if _STATUTORY.search(segment):
        return TimeLimitRule(kind="statutory", text=segment)
    if (statute := _STATUTE.search(segment)) is not None:
        return TimeLimitRule(kind="statutory", statute=statute.group("statute"), text=segment)
    if (periodic := _periodic_clause(segment)) is not None:
        return periodic
    if (days := _DAYS.search(segment)) is not None:
        return _days_clause(segment, days)
    if (typo := _DAYS_TYPO.search(segment)) is not None:
        return TimeLimitRule(
            kind="natural_days",
            days=int(typo.group("n")),
            event=_canonical_event(segment[: typo.start() + 1]),
            text=segment,
        )
    if _PERMANENT.search(segment):
        return TimeLimitRule(kind="permanent", text=segment)
    if "实时" in segment:
        return TimeLimitRule(kind="realtime", text=segment)
    if _TIMELY.search(segment):
        # Only "X作出后及时" names an event; "按进展情况及时" is a manner, not a trigger.
        after = re.match(r"^(?P<event>.+?)后及时", segment)
        event = _canonical_event(after.group("event")) if after else None
        return TimeLimitRule(kind="timely", event=event, text=segment)
    if (with_event := _WITH_EVENT.match(segment)) is not None:
        # "在实地启动…时", "随采购公告公开": due the day the event happens, like 实时.
        event = with_event.group("event") or with_event.group("with")
        return TimeLimitRule(kind="realtime", event=event, text=segment)
    return None


def parse(text: str | None) -> TimeLimitRule:
    """Parse 公开时限 text into a rule; never raises, unreadable text gives kind 'unparsed'."""
    raw = text or ""
    normalised = _normalise(raw)
    legal_override = bool(_OVERRIDE.search(normalised))
    clauses: list[TimeLimitRule] = []
    display_days: int | None = None
    min_comment_days: int | None = None
    for segment in _segments(normalised):
        if _OVERRIDE.search(segment) and not _DAYS.search(segment):
            continue
        if (display := _DISPLAY.match(segment)) is not None:
            display_days = _number(display.group("n"))
        elif (comment := _MIN_COMMENT.search(segment)) is not None and "意见" in segment:
            min_comment_days = _number(comment.group("n"))
        elif (clause := _clause(segment)) is not None:
            clauses.append(clause)
    if not clauses:
        clauses = [TimeLimitRule(kind="unparsed")]
    primary = clauses[0].model_copy(
        update={
            "text": raw,
            "legal_override": legal_override,
            "display_days": display_days,
            "min_comment_days": min_comment_days,
            "clauses": clauses if len(clauses) > 1 else [],
        }
    )
    return primary


# Bits of items.flags. The low bits are quality flags: a present value that says too little.
VAGUE_TIME_LIMIT = 1
"""公开时限含糊：如“及时” / a time limit with no number of days (parsed kind `timely`)."""
UNPARSED_TIME_LIMIT = 2
"""公开时限无法识别 / a time limit text the parser cannot read (kind `unparsed`)."""
BASIS_WITHOUT_DOCUMENT = 4
"""公开依据未引用文件 / a basis that cites no document: no 《…》, no 第…条, no …号."""
GENERIC_BODY = 8
"""公开主体空白或笼统 / a responsible body that is blank or only a generic word."""
QUALITY_MASK = 15

FLAG_NAMES: dict[int, str] = {
    VAGUE_TIME_LIMIT: "vague_time_limit",
    UNPARSED_TIME_LIMIT: "unparsed_time_limit",
    BASIS_WITHOUT_DOCUMENT: "basis_without_document",
    GENERIC_BODY: "generic_responsible_body",
}
FLAG_LABELS: dict[str, str] = {
    "vague_time_limit": "公开时限含糊",
    "unparsed_time_limit": "公开时限无法识别",
    "basis_without_document": "公开依据未引用文件",
    "generic_responsible_body": "公开主体空白或笼统",
}

# From bit 8 up: which required attribute is missing, in DRAFTABLE_ATTRIBUTES order, so the
# audit can say which attributes an item lacks without reading the item's text.
MISSING_SHIFT = 8
MISSING_BITS: dict[str, int] = {
    name: 1 << (MISSING_SHIFT + i) for i, name in enumerate(DRAFTABLE_ATTRIBUTES)
}

# The levels of a guide item, as the audit matches them against a unit's kind.
COUNTY = 1
"""县级: a district's own catalogue."""
TOWNSHIP = 2
"""乡级: a street's or town's catalogue (村级 disclosure is organised by the township)."""

GENERIC_BODIES = frozenset(
    {
        "本单位",
        "本部门",
        "本机关",
        "相关部门",
        "有关部门",
        "各部门",
        "各单位",
        "相关单位",
        "有关单位",
        "责任单位",
        "责任部门",
        "主管部门",
        "职能部门",
        "业务部门",
        "牵头部门",
        "各相关部门",
        "各有关部门",
        "相关职能部门",
        "无",
    }
)
_DOCUMENT = re.compile(r"《[^》]+》|第[^，。；,;]{1,12}[条款项章]|[〔\[(（]\d{4}[〕\])）]|\d+号")


def name_key(text: str | None) -> str:
    """The name as coverage matches it: NFKC (full width → half width), lower case, without
    spaces, punctuation or control characters."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def _absent(value: Any) -> bool:
    return value is None or value in ("", [])


def item_flags(values: Mapping[str, Any]) -> int:
    """The flags bitmask of an item's values: quality flags and missing attributes."""
    flags = 0
    for name, bit in MISSING_BITS.items():
        if _absent(values.get(name)):
            flags |= bit
    time_limit = values.get("time_limit")
    if not _absent(time_limit):
        kind = parse(time_limit).kind
        if kind == "timely":
            flags |= VAGUE_TIME_LIMIT
        elif kind == "unparsed":
            flags |= UNPARSED_TIME_LIMIT
    basis = values.get("basis")
    if not _absent(basis) and not _DOCUMENT.search(unicodedata.normalize("NFKC", basis)):
        flags |= BASIS_WITHOUT_DOCUMENT
    body = name_key(values.get("responsible_body"))
    if not body or body in GENERIC_BODIES:
        flags |= GENERIC_BODY
    return flags


def flag_names(flags: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES.items() if flags & bit]


def missing_names(flags: int) -> list[str]:
    return [name for name, bit in MISSING_BITS.items() if flags & bit]


def level_mask(levels: Iterable[str]) -> int:
    """The unit levels a guide item applies to; a guide item with no levels applies to both."""
    chosen = set(levels)
    if not chosen:
        return COUNTY | TOWNSHIP
    mask = COUNTY if "县级" in chosen else 0
    if chosen & {"乡级", "村级"}:
        mask |= TOWNSHIP
    return mask


quality = SimpleNamespace(name_key=name_key, item_flags=item_flags, level_mask=level_mask)


def upgrade() -> None:
    with op.batch_alter_table('catalogue_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_level_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('guide_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('level_mask', sa.Integer(), nullable=False, server_default='3'))

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('flags', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_index('ix_items_catalogue_lacking')
        batch_op.create_index('ix_items_catalogue_lacking', ['catalogue_id', 'lacking', 'flags'], unique=False)
        batch_op.create_index('ix_items_catalogue_name_key', ['catalogue_id', 'name_key'], unique=False)

    _fill()

    # The defaults only served the rows that existed; the app always writes the values.
    for table, columns in (
        ('catalogue_versions', ('first_level_count',)),
        ('guide_items', ('name_key', 'level_mask')),
        ('items', ('name_key', 'flags')),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def _fill() -> None:
    """Data migration: compute the stored audit values of the rows that already exist."""
    bind = op.get_bind()
    items = sa.table(
        'items', sa.column('id', sa.Integer), sa.column('name', sa.String),
        sa.column('name_key', sa.String), sa.column('flags', sa.Integer),
        *(sa.column(name, sa.JSON if name == 'channels' else sa.String) for name in DRAFTABLE_ATTRIBUTES),
    )
    guides = sa.table(
        'guide_items', sa.column('id', sa.Integer), sa.column('name', sa.String),
        sa.column('levels', sa.JSON), sa.column('name_key', sa.String),
        sa.column('level_mask', sa.Integer),
    )
    versions = sa.table(
        'catalogue_versions', sa.column('id', sa.Integer), sa.column('items', sa.JSON),
        sa.column('first_level_count', sa.Integer),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items).where(items.c.id > last).order_by(items.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            break
        bind.execute(
            items.update().where(items.c.id == sa.bindparam('item_id')),
            [
                {
                    'item_id': row['id'],
                    'name_key': quality.name_key(row['name']),
                    'flags': quality.item_flags(row),
                }
                for row in rows
            ],
        )
        last = rows[-1]['id']
    for row in bind.execute(sa.select(guides)).mappings().all():
        bind.execute(
            guides.update().where(guides.c.id == row['id']).values(
                name_key=quality.name_key(row['name']),
                level_mask=quality.level_mask(row['levels'] or []),
            )
        )
    for row in bind.execute(sa.select(versions)).mappings().all():
        bind.execute(
            versions.update().where(versions.c.id == row['id']).values(
                first_level_count=len({i.get('first_level') for i in row['items'] or []}),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_catalogue_name_key')
        batch_op.drop_index('ix_items_catalogue_lacking')
        batch_op.create_index('ix_items_catalogue_lacking', ['catalogue_id', 'lacking'], unique=False)
        batch_op.drop_column('flags')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('guide_items', schema=None) as batch_op:
        batch_op.drop_column('level_mask')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('catalogue_versions', schema=None) as batch_op:
        batch_op.drop_column('first_level_count')
