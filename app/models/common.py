"""Shared field types, vocabularies and helpers for every table and payload."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, StringConstraints

T = TypeVar("T")


def string_enum(enum_class: type[StrEnum]) -> sa.Enum:
    """Store a vocabulary as VARCHAR without a CHECK: new values need no type migration."""
    return sa.Enum(enum_class, native_enum=False, create_constraint=False, length=20)


def utcnow() -> datetime:
    return datetime.now(UTC)


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


ATTRIBUTE_LABELS: dict[str, str] = {
    "first_level": "一级事项",
    "name": "二级事项名称",
    "content": "公开内容",
    "basis": "公开依据",
    "time_limit": "公开时限",
    "responsible_body": "公开主体",
    "method": "公开方式",
    "channels": "公开渠道和载体",
    "audience": "公开对象",
    "levels": "公开层级",
}

_COLON = re.compile(r"\s*[:：]\s*")


def _split_qualified(value: str) -> tuple[str, str | None]:
    """'其他：微信群' -> ('其他', '微信群'); full-width colons are accepted."""
    head, *rest = _COLON.split(value.strip(), maxsplit=1)
    return head, (rest[0].strip() if rest and rest[0].strip() else None)


def normalize_channel(value: str) -> str:
    """Validate one channel; 其他 may carry text after a colon, nothing else may."""
    head, text = _split_qualified(value)
    if head == OTHER_CHANNEL:
        return f"{OTHER_CHANNEL}:{text}" if text else OTHER_CHANNEL
    if text is None and head in CHANNELS:
        return head
    raise ValueError(
        f"公开渠道“{value}”不在规定的渠道目录中 / channel {value!r} is not in the channel "
        f"vocabulary ({'、'.join(CHANNELS)}; 其他 may carry text: 其他:…)"
    )


def normalize_channels(values: Iterable[str]) -> list[str]:
    """Validate a set of channels, keeping the vocabulary's order and dropping repeats."""
    normalized = {normalize_channel(v) for v in values}
    order = {c: i for i, c in enumerate(CHANNELS)}
    return sorted(normalized, key=lambda c: (order[_split_qualified(c)[0]], c))


def normalize_audience(value: str) -> str:
    head, group = _split_qualified(value)
    if head == SPECIFIC_AUDIENCE:
        return f"{SPECIFIC_AUDIENCE}:{group}" if group else SPECIFIC_AUDIENCE
    if head == "全社会" and group is None:
        return head
    raise ValueError(
        f"公开对象须为“全社会”或“特定群体”（可写明群体：特定群体:项目单位） / audience must be "
        f"全社会 or 特定群体, optionally naming the group (特定群体:项目单位), got {value!r}"
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


def check_url(value: str) -> str:
    """A well-formed absolute http(s) URL: what a published page or an opinion lives at."""
    from urllib.parse import urlsplit

    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
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
