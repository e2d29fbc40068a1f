"""Shared field types, vocabularies and helpers for every table and payload."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Generic, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, StringConstraints

from app.rules.attributes import LABELS

T = TypeVar("T")


MAX_ID = 2**31 - 1
"""The largest row id (PostgreSQL INTEGER), and so the largest offset or cursor number: a
larger one cannot name a row and must not reach the driver."""
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


def whole_number(text: str) -> int | None:
    """`text` as a number that can name a row or an offset (ASCII digits, 0..MAX_ID), None
    if it cannot be one: the one reader of ids, offsets and cursor numbers sent as text."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) and int(text) <= MAX_ID else None


def string_enum(enum_class: type[StrEnum]) -> sa.Enum:
    """Store a vocabulary as VARCHAR without a CHECK: new values need no type migration."""
    return sa.Enum(enum_class, native_enum=False, create_constraint=False, length=20)


def utcnow() -> datetime:
    return datetime.now(UTC)


# China Standard Time, UTC+8 all year (no daylight saving since 1991). The offices work,
# and the 条例's clocks run, on Beijing time: "today" is Beijing's date whatever the
# server's own time zone (a server on UTC is still on yesterday until 08:00 Beijing).
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


def today_in_beijing() -> date:
    """Today's date in Beijing: the date every "not in the future" rule and every default
    `as_of` use."""
    return datetime.now(CHINA_STANDARD_TIME).date()


def iso_utc(moment: datetime) -> str:
    """A timestamp as every answer writes it: UTC, ISO 8601, `Z` (as pydantic does)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UnitKind(StrEnum):
    """单位类型 / kind of unit."""

    city = "city"
    district = "district"
    street = "street"
    town = "town"
    department = "department"


class Role(StrEnum):
    editor = "editor"
    auditor = "auditor"
    admin = "admin"


class Status(StrEnum):
    """目录状态 / catalogue status."""

    draft = "draft"
    compiled = "compiled"
    published = "published"


# The vocabularies are written exactly as the official documents write them.
METHODS: tuple[str, ...] = ("主动", "依申请")
"""公开方式 / disclosure method."""

AUDIENCES: tuple[str, ...] = ("全社会", "特定群体")
"""公开对象 / audience; 特定群体 may name the group after a colon: 特定群体:项目单位."""

LEVELS: tuple[str, ...] = ("县级", "乡级", "村级")
"""公开层级 / levels that disclose an item."""

CHANNELS: tuple[str, ...] = (
    "政府网站",
    "政府公报",
    "两微一端",
    "发布会/听证会",
    "广播电视",
    "纸质媒体",
    "公开查阅点",
    "政务服务中心",
    "便民服务站",
    "入户/现场",
    "社区/企事业单位/村公示栏(电子屏)",
    "精准推送",
    "其他",
)
"""公开渠道和载体 / channels: the standard checklist; 其他 may carry text: 其他:村民微信群."""

OTHER_CHANNEL = "其他"
SPECIFIC_AUDIENCE = "特定群体"


ATTRIBUTE_LABELS: dict[str, str] = LABELS
"""An ITEM attribute's Chinese name, declared with the attribute (app/rules/attributes.py)."""

_COLON = re.compile(r"\s*[:：]\s*")


def _split_qualified(value: str) -> tuple[str, str | None]:
    """'其他：微信群' -> ('其他', '微信群'); full-width colons are accepted."""
    head, *rest = _COLON.split(value.strip(), maxsplit=1)
    return head, (rest[0].strip() if rest and rest[0].strip() else None)


# Invisible characters that make a blank look filled in or two equal texts differ:
# zero-width spaces and joiners, BOM, soft hyphen, word joiner, bidi marks and overrides.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Spaces other than U+0020 (no-break, ideographic, thin, …) and the Unicode line separators.
_ODD_SPACE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_ODD_BREAK = re.compile("[\u2028\u2029\x85]")


def visible_text(value: str) -> str:
    """Text as a reader sees it: invisible characters dropped, NFC, odd spaces made plain.

    Every text attribute goes through this on the JSON API and in the importer alike, so
    "\u200b" is blank and 全角 and composed forms compare equal wherever they come from.
    """
    value = _INVISIBLE.sub("", unicodedata.normalize("NFC", value))
    return _ODD_BREAK.sub("\n", _ODD_SPACE.sub(" ", value))


_CHANNEL_PUNCTUATION = re.compile(r"[\s/／、()（）]")


def channel_key(text: str) -> str:
    """A channel's words without spaces, bracket widths or the separators / 、: two texts
    with the same key name the same channel in the same words."""
    return _CHANNEL_PUNCTUATION.sub("", visible_text(text)).rstrip("等。.；;")


_CHANNEL_BY_KEY: dict[str, str] = {channel_key(c): c for c in CHANNELS}

# What offices write for a vocabulary channel in other words. Only ever a suggestion:
# the office's own wording is kept as 其他:<text> (a different word may mean a different
# channel), and the editor decides.
CHANNEL_SYNONYMS: dict[str, str] = {
    "发布会": "发布会/听证会",
    "新闻发布会": "发布会/听证会",
    "听证会": "发布会/听证会",
    "入户/现场宣传": "入户/现场",
    "广播电台": "广播电视",
    "广播": "广播电视",
    "电视": "广播电视",
    "政府服务中心": "政务服务中心",
    "行政服务中心": "政务服务中心",
    "政务服务大厅": "政务服务中心",
    "办税服务厅": "政务服务中心",
    "政务公开专区": "公开查阅点",
    "公开查阅点/政务公开专区": "公开查阅点",
    "政府信息公开查阅点": "公开查阅点",
    "一微一端": "两微一端",
    "政务新媒体": "两微一端",
    "微信公众号": "两微一端",
    "纸质载体": "纸质媒体",
    "报刊": "纸质媒体",
    "政府门户网站": "政府网站",
    "门户网站": "政府网站",
    "便民服务点": "便民服务站",
}
_SYNONYM_BY_KEY = {channel_key(k): v for k, v in CHANNEL_SYNONYMS.items()}
# Words that point at one channel when an office names its own (某某县司法局公众号).
_CHANNEL_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("公示栏", "公告栏", "宣传栏", "公开栏", "电子屏"), CHANNELS[10]),
    (("公众号", "微信", "微博", "客户端", "APP", "App", "app", "新媒体", "抖音"), "两微一端"),
    (("网站", "门户"), "政府网站"),
    (("公报",), "政府公报"),
    (("发布会", "听证"), "发布会/听证会"),
    (("广播", "电视"), "广播电视"),
    (("报纸", "报刊", "纸质", "宣传册", "手册"), "纸质媒体"),
    (("查阅",), "公开查阅点"),
    (("便民服务",), "便民服务站"),
    (("服务中心", "服务大厅", "服务厅", "办事大厅"), "政务服务中心"),
    (("入户", "现场"), "入户/现场"),
    (("推送", "短信"), "精准推送"),
)


def vocabulary_channel(text: str) -> str | None:
    """The vocabulary channel a text names in the vocabulary's own words, else None."""
    return _CHANNEL_BY_KEY.get(channel_key(text))


def likely_channel(text: str) -> str | None:
    """The vocabulary channel a text other than the vocabulary's probably means, or None:
    a known synonym, a one-character slip (政府服务中心), or a telling word (公众号)."""
    key = channel_key(text)
    if key in _SYNONYM_BY_KEY:
        return _SYNONYM_BY_KEY[key]
    for known, channel in _CHANNEL_BY_KEY.items():
        if len(known) == len(key) and sum(a != b for a, b in zip(known, key, strict=True)) == 1:
            return channel
    return next((c for words, c in _CHANNEL_HINTS if any(w in text for w in words)), None)


AUDIENCE_LIMIT = 200
"""The audience column's length, group text included."""
CHANNEL_LIMIT = 100
"""One channel, `其他:` and its text included."""
MAX_CHANNELS = 20


def _plain_text(field: str, value: str, limit: int) -> str:
    """The rules of every text field: no control characters, at most the column's length."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{field} 含有控制字符 / {field} contains control characters")
    if len(value) > limit:
        raise ValueError(
            f"{field} 不得超过 {limit} 个字符 / {field} must be at most {limit} characters"
        )
    return value


def normalize_channel(value: str) -> str:
    """Validate one channel; 其他 may carry text after a colon, nothing else may.

    A vocabulary channel written with other spaces, bracket widths or separators
    (社区/企事业单位、村公示栏（电子屏）) is that channel; other words are refused with the
    entry they probably mean, and 其他:<text> keeps an office's own channel.
    """
    head, text = _split_qualified(visible_text(value))
    if head == OTHER_CHANNEL:
        return _plain_text(
            "channels", f"{OTHER_CHANNEL}:{text}" if text else OTHER_CHANNEL, CHANNEL_LIMIT
        )
    if text is None and (channel := vocabulary_channel(head)) is not None:
        return channel
    hint = likely_channel(value)
    zh = f"可能是指“{hint}”；" if hint else ""
    en = f"; probably {hint!r}" if hint else ""
    shown = value.strip()[:50]
    raise ValueError(
        f"公开渠道“{shown}”不在规定的渠道目录中（{zh}其他渠道请写“其他:{shown}”） / "
        f"channel {shown!r} is not in the channel vocabulary{en} ({'、'.join(CHANNELS)}; "
        f"an office's own channel is written 其他:<text>)"
    )


def normalize_channels(values: Iterable[str]) -> list[str]:
    """Validate a set of channels, keeping the vocabulary's order and dropping repeats."""
    normalized = {normalize_channel(v) for v in values}
    if len(normalized) > MAX_CHANNELS:
        raise ValueError(
            f"公开渠道最多 {MAX_CHANNELS} 个 / at most {MAX_CHANNELS} channels, "
            f"got {len(normalized)}"
        )
    order = {c: i for i, c in enumerate(CHANNELS)}
    return sorted(normalized, key=lambda c: (order[_split_qualified(c)[0]], c))


def normalize_audience(value: str) -> str:
    head, group = _split_qualified(value)
    if head == SPECIFIC_AUDIENCE:
        return _plain_text(
            "audience",
            f"{SPECIFIC_AUDIENCE}:{group}" if group else SPECIFIC_AUDIENCE,
            AUDIENCE_LIMIT,
        )
    if head == "全社会" and group is None:
        return head
    raise ValueError(
        f"公开对象须为“全社会”或“特定群体”（可写明群体：特定群体:项目单位） / audience must be "
        f"全社会 or 特定群体, optionally naming the group (特定群体:项目单位), got {value[:50]!r}"
    )


def normalize_method(value: str) -> str:
    if value.strip() in METHODS:
        return value.strip()
    raise ValueError(f"公开方式须为“主动”或“依申请” / method must be 主动 or 依申请, got {value!r}")


def normalize_levels(values: Iterable[str]) -> list[str]:
    chosen = {v.strip() for v in values}
    if unknown := chosen.difference(LEVELS):
        raise ValueError(
            f"公开层级须为县级、乡级、村级 / levels must be among 县级, 乡级, 村级, "
            f"got {sorted(unknown)}"
        )
    return [level for level in LEVELS if level in chosen]


_SPACE = re.compile(r"\s")
_PLAIN_URL = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[\x21\x22\x24-\x2e\x30-\x3e\x40-\x5a\x5c\x5e-\x7e]+(?:[/?#]\S*)?"
)
"""URLs that `urlsplit` accepts without a doubt: http(s), a non-empty ASCII netloc without
brackets, no whitespace (1,000 records in a push: urlsplit is most of the check's cost)."""


def check_url(value: str) -> str:
    """A well-formed absolute http(s) URL: what a published page or an opinion lives at."""
    value = value.strip()
    if _PLAIN_URL.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or _SPACE.search(value):
        raise ValueError(
            f"网址须为完整的 http(s) 地址 / url must be an absolute http(s) URL, got {value!r}"
        )
    return value


def _strip(value: str) -> str:
    return value.strip()


NonBlank = Annotated[str, AfterValidator(_strip), StringConstraints(min_length=1)]
DomainCode = Annotated[str, StringConstraints(pattern=r"^\d{2,3}$")]
HttpUrl = Annotated[str, AfterValidator(check_url), StringConstraints(max_length=1000)]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{2,32}$")]


class Page(BaseModel, Generic[T]):
    """One page of a list that can grow; `next` is the cursor for the next page or null."""

    items: list[T]
    next: str | None = None
