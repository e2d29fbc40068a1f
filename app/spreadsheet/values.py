"""Cell texts of real catalogues → vocabulary values (common.py) or a precise ValueError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from app.models.common import (
    CHANNELS,
    OTHER_CHANNEL,
    SPECIFIC_AUDIENCE,
    normalize_audience,
    normalize_channel,
    normalize_levels,
    normalize_method,
)

_SPACE = re.compile(r"\s+")
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_PARENS = re.compile(r"\([^()]*\)")
_PLACEHOLDER = re.compile(r"^[\-—─－/／_]+$")
SAME_AS_ABOVE = frozenset({"同上", "同上。", "同上."})

# Check marks (guides.md §3.4). R/£ (Wingdings lost in conversion) and ▄/口 are ordinary
# letters too, so they count as marks only at the start of a segment and only in pairs.
CHECKED = frozenset("■√☑✓✔▲◆●")
UNCHECKED = frozenset("□☐〇○")
CHECKED_WORDS = frozenset({"是", "有", "Y", "y", "V", "v"})
UNCHECKED_WORDS = frozenset({"×", "✗", "✘", "否", "无", "N", "n"})
PAIRED_MARKS: tuple[tuple[str, str], ...] = (("R", "£"), ("▄", "口"))
UNREADABLE = frozenset("?？")
_SEGMENT_START = re.compile("(?=[" + "".join(sorted(CHECKED | UNCHECKED)) + "])")
_LIST_SPLIT = re.compile(r"[\n、，,；;]+|\s+(?=\d{1,2}[.．、])")
_NUMBERING = re.compile(r"^(?:[(（]?\d{1,2}[.．、)）]|[①-⑳])\s*")


def short_text(text: str) -> str:
    """Names: one line; a line break or stray space between Chinese characters goes."""
    return _SPACE_IN_CJK.sub("", _SPACE.sub(" ", text).strip())


def long_text(text: str) -> str:
    """Content, basis, …: keep the line structure, trim each line, drop blank lines."""
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def is_placeholder(text: str) -> bool:
    """ "—", "─", "/" …: a catalogue's way of writing "nothing here"."""
    return bool(_PLACEHOLDER.match(text.strip()))


def is_same_as_above(text: str) -> bool:
    return _SPACE.sub("", text) in SAME_AS_ABOVE


def label(text: str) -> str:
    """A header text reduced for matching: no spaces, no (annotations), ASCII parens."""
    flat = _SPACE.sub("", text).replace("（", "(").replace("）", ")")
    return _PARENS.sub("", flat).strip(":：")


# ---- tick columns ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """A tick cell: checked True/False, or None when it holds text without a mark."""

    checked: bool | None
    note: str = ""


def tick(text: str) -> Tick:
    """ "√" → checked; "√（项目单位）" → checked with note 项目单位; "□" / "×" → unchecked."""
    flat = text.strip()
    if not flat:
        return Tick(False)
    if flat in CHECKED_WORDS:
        return Tick(True)
    if flat in UNCHECKED_WORDS:
        return Tick(False)
    if flat[0] in CHECKED or flat[0] in UNCHECKED:
        return Tick(flat[0] in CHECKED, _unwrap(flat[1:]))
    return Tick(None, flat)


def _unwrap(text: str) -> str:
    """ "（项目单位）" → "项目单位": one layer of brackets around a note goes."""
    flat = text.strip()
    if len(flat) >= 2 and flat[0] in "(（" and flat[-1] in ")）":
        flat = flat[1:-1]
    return short_text(flat)


# ---- header labels of tick columns -------------------------------------------------------

AUDIENCE_LABELS: dict[str, str] = {
    "全社会": "全社会",
    "社会公众": "全社会",
    "特定群体": SPECIFIC_AUDIENCE,
    "特定群众": SPECIFIC_AUDIENCE,
    "特定对象": SPECIFIC_AUDIENCE,
    "特定": SPECIFIC_AUDIENCE,
}
METHOD_LABELS: dict[str, str] = {
    "主动": "主动",
    "主动公开": "主动",
    "依申请": "依申请",
    "依申请公开": "依申请",
}
# Labels are compared after label() has dropped "(…)": 县(区)级 → 县级, 镇(街)级 → 镇级.
# 乡、村级 / 镇、村级 name the township column of two-level tables, so they map to 乡级.
LEVEL_LABELS: dict[str, str] = {
    **dict.fromkeys(("县级", "区级", "县区级", "区县级", "县市区级"), "县级"),
    **dict.fromkeys(
        (
            "乡级",
            "镇级",
            "乡镇级",
            "街道级",
            "镇街级",
            "街级",
            "乡、村级",
            "镇、村级",
            "乡镇、村级",
        ),
        "乡级",
    ),
    **dict.fromkeys(("村级", "社区级", "村居级", "嘎查级"), "村级"),
}
_LEVEL_TOKEN = re.compile("|".join(sorted(map(re.escape, LEVEL_LABELS), key=len, reverse=True)))


# ---- value columns -----------------------------------------------------------------------


def method_value(text: str) -> str:
    """ "主动" / "主动公开" / "依申请公开" → the vocabulary; anything else is a ValueError."""
    flat = _SPACE.sub("", text)
    return normalize_method(METHOD_LABELS.get(flat, flat))


def audience_value(text: str) -> str:
    """ "全社会"; "特定群众"; "特定群体：申请人" or "特定群体（申请人）" → 特定群体:申请人."""
    flat = short_text(text).replace("（", "(").replace("）", ")")
    for written, value in sorted(AUDIENCE_LABELS.items(), key=lambda kv: -len(kv[0])):
        if flat.startswith(written):
            rest = flat[len(written) :].strip()
            group = _unwrap(rest) if rest.startswith("(") else rest.lstrip(":：").strip()
            return normalize_audience(f"{value}:{group}" if group else value)
    return normalize_audience(flat)


def levels_value(text: str) -> list[str]:
    """ "县级、乡级" / "区级,镇级" / "县(区)级" → the level vocabulary; leftovers are errors."""
    flat = label(text)
    found = [LEVEL_LABELS[token] for token in _LEVEL_TOKEN.findall(flat)]
    rest = re.sub(r"[、，,；;/和及]", "", _LEVEL_TOKEN.sub("", flat))
    if rest or not found:
        return normalize_levels([rest or text])  # raises with the vocabulary's message
    return normalize_levels(found)


# ---- channels ----------------------------------------------------------------------------

_CHANNEL_KEY = re.compile(r"[\s/／、()（）]")
NOTICE_BOARD = CHANNELS[10]
"""社区/企事业单位/村公示栏(电子屏): its spellings vary more than any other channel's."""
CHANNEL_VARIANTS: dict[str, str] = {
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


def _channel_key(text: str) -> str:
    return _CHANNEL_KEY.sub("", text).rstrip("等。.；;")


_KNOWN_CHANNELS: dict[str, str] = {
    **{_channel_key(c): c for c in CHANNELS},
    **{_channel_key(k): v for k, v in CHANNEL_VARIANTS.items()},
}


@lru_cache(maxsize=4096)  # a catalogue repeats the same few channel texts on every row
def channel(text: str) -> tuple[str, bool]:
    """One channel as written → (vocabulary value, whether it plainly named one).

    A text that names no vocabulary channel becomes 其他:<text> (known=False) so that
    nothing is dropped; the caller warns about it.
    """
    flat = short_text(_NUMBERING.sub("", text.strip()))
    if flat.startswith(OTHER_CHANNEL):
        rest = flat[len(OTHER_CHANNEL) :].strip(" _:：-—")
        return normalize_channel(f"{OTHER_CHANNEL}:{rest}" if rest else OTHER_CHANNEL), True
    known = _KNOWN_CHANNELS.get(_channel_key(flat))
    if known is None and "公示栏" in flat:
        known = NOTICE_BOARD
    if known is not None:
        return known, True
    return normalize_channel(f"{OTHER_CHANNEL}:{flat}"), False


@dataclass
class ChannelCell:
    """What one 公开渠道和载体 cell says."""

    channels: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Texts that named no vocabulary channel and became 其他:<text>."""
    ignored: list[str] = field(default_factory=list)
    """Unmarked text in a ■/□ checklist (a note such as "注：…")."""
    unreadable: list[str] = field(default_factory=list)
    """Segments whose mark was lost ("?政府网站"): checked or not cannot be told."""


def channel_cell(text: str) -> ChannelCell:
    """A ■/□ checklist ("■政府网站\\n□政府公报"), or a plain list ("政府网站、政务服务中心")."""
    split = _SEGMENT_START
    paired = "".join(on + off for on, off in PAIRED_MARKS if on in text and off in text)
    if paired:  # letters that are marks here: split before them only after a space
        split = re.compile(rf"{_SEGMENT_START.pattern}|(?<=\s)(?=[{re.escape(paired)}])")
    segments = [s.strip() for part in text.splitlines() for s in split.split(part)]
    segments = [s for s in segments if s]
    marked = [_mark(s, text) for s in segments]
    result = ChannelCell()
    checklist = any(mark is not None for mark, _ in marked) or any(
        s[0] in UNREADABLE for s in segments
    )
    if not checklist:
        for token in (t for s in segments for t in _LIST_SPLIT.split(s)):
            if token.strip() and not is_placeholder(token):
                _add_channel(result, token)
        return result
    for (mark, rest), segment in zip(marked, segments, strict=True):
        if mark is None:
            (result.unreadable if segment[0] in UNREADABLE else result.ignored).append(segment)
        elif mark and rest:
            _add_channel(result, rest)
    return result


def _mark(segment: str, cell: str) -> tuple[bool | None, str]:
    """(checked?, text after the mark), or (None, segment) when it carries no mark."""
    first, rest = segment[0], segment[1:].strip()
    if first in CHECKED or first in UNCHECKED:
        return first in CHECKED, rest
    for on, off in PAIRED_MARKS:
        if first in (on, off) and on in cell and off in cell:
            return first == on, rest
    return None, segment


def _add_channel(result: ChannelCell, text: str) -> None:
    value, known = channel(text)
    if not known:
        result.unknown.append(short_text(text))
    if value not in result.channels:
        result.channels.append(value)
