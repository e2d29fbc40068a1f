"""Cell texts of real catalogues → vocabulary values (common.py) or a precise ValueError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from app.models.common import (
    CHANNELS,
    LEVELS,
    OTHER_CHANNEL,
    SPECIFIC_AUDIENCE,
    likely_channel,
    normalize_audience,
    normalize_channel,
    normalize_levels,
    normalize_method,
    visible_text,
    vocabulary_channel,
)

_SPACE = re.compile(r"\s+")
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_BREAK_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]*[\r\n]+\s*(?=[{_CJK}])")
_NEUTRALISED = re.compile("^'(?=[=+\\-@\t\r])")
_PARENS = re.compile(r"\([^()]*\)")
_PLACEHOLDER = re.compile(r"^[\-—─－/／_]+$")
SAME_AS_ABOVE = frozenset({"同上", "同上。", "同上."})

# Check marks (guides.md §3.4). R/£ (Wingdings lost in conversion) and ▄/口 are ordinary
# letters too, so they count as marks only at the start of a segment and only in pairs.
CHECKED = frozenset("■√☑✓✔▲◆●▇█")
UNCHECKED = frozenset("□☐〇○◇")
LONE_CHECKED = frozenset("▄")
"""Marks that tick only as a tick column's whole cell (▄ is also half of the ▄/口 pair)."""
LONE_UNCHECKED = frozenset("口")
CHECKED_WORDS = frozenset({"是", "有", "Y", "y", "V", "v"})
UNCHECKED_WORDS = frozenset({"×", "✗", "✘", "否", "无", "N", "n"})
PAIRED_MARKS: tuple[tuple[str, str], ...] = (("R", "£"), ("▄", "口"))
UNREADABLE = frozenset("?？")
_SEGMENT_START = re.compile("(?=[" + "".join(sorted(CHECKED | UNCHECKED)) + "])")
_NUMBERING = re.compile(r"^(?:[(（]?\d{1,2}[.．、)）]|[①-⑳])\s*")


def cell_text(text: str) -> str:
    """A cell as the office wrote it: invisible characters gone (visible_text), and the
    leading ' our CSV export puts before = + - @ tab CR (formula injection) taken off."""
    return _NEUTRALISED.sub("", visible_text(text))


def short_text(text: str) -> str:
    """Names: one line. A line break between Chinese characters is the cell's wrap and
    goes; any other run of spaces becomes one space (two words stay two words)."""
    return _SPACE.sub(" ", _BREAK_IN_CJK.sub("", text)).strip()


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
    flat = _SPACE.sub("", visible_text(text)).replace("（", "(").replace("）", ")")
    return _PARENS.sub("", flat).strip(":：")


_BRACKETED = re.compile(r"^(.+?)[(（]([^()（）]+)[)）]$")


def bracketed(text: str) -> tuple[str, str] | None:
    """ "公开对象（全社会）" → ("公开对象", "全社会"): a sub-choice written in brackets."""
    match = _BRACKETED.match(_SPACE.sub("", visible_text(text)))
    return (match[1], match[2]) if match else None


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
    if flat in LONE_CHECKED or flat in LONE_UNCHECKED:
        return Tick(flat in LONE_CHECKED)
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
    "申请": "依申请",
    "申请公开": "依申请",
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
COUNTY_WORDS = frozenset(("县", "区", "市", "旗", "县区", "区县", "县市区", "市区", "县市"))
VILLAGE_WORDS = ("村", "社区", "嘎查", "居委")
TOWNSHIP_WORDS = ("乡", "镇", "街", "苏木")


def level_of(text: str) -> str | None:
    """The level a header names by its unit kind: a county-level city or district (市级,
    区级) is 县级; 镇, 街, 乡, 苏木 are 乡级; 村, 社区, 嘎查 are 村级; else None."""
    flat = label(text)
    if flat in LEVEL_LABELS:
        return LEVEL_LABELS[flat]
    core = flat.removesuffix("级").removesuffix("层")
    if core in COUNTY_WORDS:
        return LEVELS[0]
    if any(word in core for word in VILLAGE_WORDS):
        return LEVELS[2]
    if any(word in core for word in TOWNSHIP_WORDS):
        return LEVELS[1]
    return None


# ---- value columns -----------------------------------------------------------------------


def method_value(text: str) -> str:
    """ "主动" / "主动公开" / "依申请公开" → the vocabulary; anything else is a ValueError."""
    flat = _SPACE.sub("", text)
    return normalize_method(METHOD_LABELS.get(flat, flat))


def audience_value(text: str) -> tuple[str, bool]:
    """ "全社会"; "特定群众"; "特定群体：申请人" or "特定群体（申请人）" → 特定群体:申请人.

    The group written on its own (法律援助申请人) is a specific group: (特定群体:<group>,
    True), True saying it was read so. A mark, a method or a level word is a ValueError.
    """
    flat = short_text(text).replace("（", "(").replace("）", ")")
    for written, value in sorted(AUDIENCE_LABELS.items(), key=lambda kv: -len(kv[0])):
        if flat.startswith(written):
            rest = flat[len(written) :].strip()
            group = _unwrap(rest) if rest.startswith("(") else rest.lstrip(":：").strip()
            return normalize_audience(f"{value}:{group}" if group else value), False
    if names_a_group(flat):
        return normalize_audience(f"{SPECIFIC_AUDIENCE}:{flat}"), True
    return normalize_audience(flat), False


def names_a_group(text: str) -> bool:
    """Words that can be a group of people: Chinese, not a mark, method, level or channel."""
    flat = label(text)
    return (
        bool(re.search(r"[\u3400-\u9fff]", flat))
        and tick(flat).checked is None
        and flat not in METHOD_LABELS
        and not (level_of(flat) and (flat.endswith("级") or len(flat) <= 3))  # 区级, 镇街
        and vocabulary_channel(flat) is None
        and not flat.startswith(("公开", "其他"))
    )


def levels_value(text: str) -> list[str]:
    """ "县级、乡级" / "区级,镇级" / "县(区)级" / "市级、镇街" → the level vocabulary (by the
    unit kind each names, level_of); a word naming no level is an error."""
    flat = label(text)
    found = [LEVEL_LABELS[token] for token in _LEVEL_TOKEN.findall(flat)]
    for token in re.split(r"[、，,；;/和及]+", _LEVEL_TOKEN.sub("、", flat)):
        if not token:
            continue
        level = level_of(token)
        if level is None:
            return normalize_levels([token])  # raises with the vocabulary's message
        found.append(level)
    if not found:
        return normalize_levels([text])
    return normalize_levels(found)


# ---- channels ----------------------------------------------------------------------------

NOTICE_BOARD = CHANNELS[10]
"""社区/企事业单位/村公示栏(电子屏): its spellings vary more than any other channel's."""
# Separators that always end a channel: line breaks, |, commas, semicolons, and the start
# of the next number of a numbered list ("1.政府网站 2.两微一端", "1.政府网站2.两微一端").
_CHANNEL_LIST = re.compile(r"[\n|｜，,；;]+|\s*(?<![\d.．])(?=(?:\d{1,2}[.．、](?!\d)|[①-⑳]))")
# Separators that end a channel only where the whole is not one channel: 、 and spaces;
# / only where it stands between vocabulary channels (发布会/听证会 is one entry).
_CHANNEL_WORDS = re.compile(r"[、\s]+")
_CHANNEL_SLASH = re.compile(r"[/／]")


@dataclass(frozen=True)
class Channel:
    """One channel as written, read: its value, whether it was a vocabulary entry as
    written (or 其他:…), and the entry it probably means when it was not."""

    value: str
    verbatim: bool
    likely: str | None = None


@lru_cache(maxsize=4096)  # a catalogue repeats the same few channel texts on every row
def channel(text: str) -> Channel:
    """One channel as written. Never replaces the office's wording: a text that is not a
    vocabulary entry (up to spaces, bracket widths and / 、) becomes 其他:<text>."""
    flat = short_text(_NUMBERING.sub("", text.strip()))
    if flat.startswith(OTHER_CHANNEL):
        rest = flat[len(OTHER_CHANNEL) :].strip(" _:：-—")
        return Channel(
            normalize_channel(f"{OTHER_CHANNEL}:{rest}" if rest else OTHER_CHANNEL), True
        )
    known = vocabulary_channel(flat)
    if known is not None:
        return Channel(known, True)
    return Channel(normalize_channel(f"{OTHER_CHANNEL}:{flat}"), False, likely_channel(flat))


def channel_names(text: str) -> list[str]:
    """The channel names in one piece of text, split on every separator real tables use
    without ever cutting a vocabulary entry or an office's own name in two."""
    names: list[str] = []
    for piece in _CHANNEL_LIST.split(text):
        piece = _NUMBERING.sub("", piece.strip()).strip()
        if not piece or is_placeholder(piece):
            continue
        if vocabulary_channel(piece) or piece.startswith(OTHER_CHANNEL):
            names.append(piece)
            continue
        for word in _CHANNEL_WORDS.split(piece):
            parts = [p for p in _CHANNEL_SLASH.split(word) if p.strip()]
            whole = vocabulary_channel(word) is not None
            if len(parts) > 1 and not whole and any(vocabulary_channel(p) for p in parts):
                names += parts
            elif word and not is_placeholder(word):
                names.append(word)
    return names


@dataclass
class ChannelCell:
    """What one 公开渠道和载体 cell says."""

    channels: list[str] = field(default_factory=list)
    unknown: list[Channel] = field(default_factory=list)
    """Texts that are not vocabulary entries, kept as 其他:<text>."""
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
        for name in channel_names(text):
            _add_channel(result, name)
        return result
    for (mark, rest), segment in zip(marked, segments, strict=True):
        if mark is None:
            (result.unreadable if segment[0] in UNREADABLE else result.ignored).append(segment)
        elif mark and rest:
            for name in channel_names(rest):
                _add_channel(result, name)
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
    read = channel(text)
    if not read.verbatim and read not in result.unknown:
        result.unknown.append(read)
    if read.value not in result.channels:
        result.channels.append(read.value)
