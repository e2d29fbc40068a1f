"""Build the checked, normalised seed data from the shared reference data.

Run from the repository root::

    python seed/build.py

Reads ``../shared/data/guides.json`` (the collected 标准指引 items of the 26 pilot
domains) and writes ``seed/data/domains.json`` and ``seed/data/guide_items.json``.
``seed/data/units.json`` and ``seed/data/milestones.json`` are hand-checked files
(sources inside them and in ``seed/README.md``); this script validates them.

Every correction to the shared data is an explicit table below, so the result is
reproducible and reviewable. Every output value is checked with the normalize_*
functions of ``app.models.common`` (the build fails if one does not pass).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The collected reference data lives beside the repository; SEED_SOURCE points elsewhere.
SHARED = Path(os.environ.get("SEED_SOURCE") or REPO.parent / "shared" / "data")
OUT = REPO / "seed" / "data"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

try:
    from app.models.common import (
        AUDIENCES,
        CHANNELS,
        LEVELS,
        METHODS,
        normalize_audience,
        normalize_channels,
        normalize_levels,
        normalize_method,
    )
except ImportError:  # pragma: no cover - app/models/__init__.py imports every table module;
    # while those are being written, load the vocabulary module (stdlib + pydantic) directly.
    _spec = importlib.util.spec_from_file_location(
        "_seed_common", REPO / "app" / "models" / "common.py"
    )
    assert _spec is not None
    assert _spec.loader is not None
    _common = importlib.util.module_from_spec(_spec)
    sys.modules["_seed_common"] = _common
    _spec.loader.exec_module(_common)
    AUDIENCES = _common.AUDIENCES
    CHANNELS = _common.CHANNELS
    LEVELS = _common.LEVELS
    METHODS = _common.METHODS
    normalize_audience = _common.normalize_audience
    normalize_channels = _common.normalize_channels
    normalize_levels = _common.normalize_levels
    normalize_method = _common.normalize_method

TRUNCATED = "（截断）"

# ---------------------------------------------------------------------------
# Domains: the authority is the Xiamen notice 厦府办〔2020〕67号 (shared/seeds/003),
# section 一(一), which lists the 26 national pilot domains in this order.
# ---------------------------------------------------------------------------
NOTICE_DOMAINS: tuple[str, ...] = (
    "城乡规划",
    "重大建设项目",
    "公共资源交易",
    "财政预决算",
    "安全生产",
    "税收管理",
    "农村集体土地征收",
    "国有土地上房屋征收与补偿",
    "保障性住房",
    "农村危房改造",
    "生态环境",
    "公共文化服务",
    "公共法律服务",
    "扶贫",
    "救灾",
    "食品药品监管",
    "城市综合执法",
    "就业",
    "社会保险",
    "社会救助",
    "养老服务",
    "户籍管理",
    "涉农补贴",
    "义务教育",
    "卫生健康",
    "市政服务",
)

# Issuing ministry, short clean name, only where a collected source names the
# ministry's own guide or notice (see guides.md §1). Domains whose ministry is only
# inferred (guide "not seen", "推定", "未在来源中确认") stay null.
MINISTRY: dict[str, str] = {
    "01": "自然资源部",  # 自然资源部办公厅 notice, cited by 重庆市规划和自然资源局 2020-07-22
    "02": "国家发展改革委",  # 发改办投资〔2019〕621号
    "04": "财政部",  # 财办发〔2019〕77号
    "07": "自然资源部",  # same 重庆 notice as 01
    "08": "住房和城乡建设部",  # 建办厅〔2019〕71号
    "09": "住房和城乡建设部",  # 建办厅〔2019〕71号
    "10": "住房和城乡建设部",  # 建办厅〔2019〕71号
    "11": "生态环境部",  # 环办厅函〔2019〕672号
    "16": "市场监管总局",  # 驻马店: "以市场监管总局标准指引……为依据"
    "18": "人力资源社会保障部",  # 花垣县 reprint of the guide text
    "20": "民政部",  # 民办函〔2019〕52号
    "21": "民政部",  # 民办函〔2019〕52号
    "22": "公安部",  # 公安部办公厅 guide, cited by 闽公办〔2020〕14号
}

# ---------------------------------------------------------------------------
# Item names: the collector wrote notes into some names; the note goes to the
# README, the name keeps what the source table shows.
# ---------------------------------------------------------------------------
FIRST_LEVEL_RENAME: dict[tuple[str, str], str] = {
    ("07", "征地法定公告（2020年后版本）"): "征地法定公告",
    ("22", "查询服务（中山2024版）"): "查询服务",
    # the first-level name of the 05xx rows was not visible; keep only what was seen
    ("25", "05类事项（一级名称未显示；含计划生育奖励扶助）"): "05类事项",
}
SECOND_LEVEL_RENAME: dict[tuple[str, str], str] = {
    # the source table has no second-level item here ("─"): the row is the first-level item
    ("07", "征地管理政策（无二级事项，源表为“─”）"): "征地管理政策",
    ("07", "征地法定公告（无二级事项，源表为“—”）"): "征地法定公告",
    ("07", "拟征收土地现状调查（2020年后版本）"): "拟征收土地现状调查",
}
# First-level items that are not items: 18 就业 lists the guide's scope phrases as
# first-level items with no rows (marked "未确认为一级事项，无行"). They carry no
# second-level item, so nothing is emitted for them; they are counted in the README.
SCOPE_ONLY_MARK = "未确认为一级事项"

# ---------------------------------------------------------------------------
# Field corrections: (domain code, second-level name after renaming, field) -> value.
# ---------------------------------------------------------------------------
FIELD_FIX: dict[tuple[str, str, str], str] = {
    # 26 市政服务: the 东坡区 table copy-pasted 《城镇燃气管理条例》 as the basis of the
    # road-works rows; the governing regulation is 《城市道路管理条例》 (arts. 28-33).
    ("26", "占用、挖掘城市道路审批", "basis"): "《城市道路管理条例》",
    ("26", "依附城市道路建设各种管线及城市桥梁上架设各类市政管线审批", "basis"): (
        "《城市道路管理条例》"
    ),
    ("26", "特殊车辆在城市道路上行驶", "basis"): "《城市道路管理条例》",
    # 02: typo in the source ("信息形成个20个工作日内"), see guides.md §4.A
    ("02", "招标投标", "time_limit"): (
        "信息形成20个工作日内公开;其中行政许可、行政处罚事项应自作出行政决定之日起7个工作日内公示"
    ),
    # 02: the collector's own truncation note, rewritten with the standard marker
    ("02", "企业投资项目备案", "time_limit"): "信息形成20个工作日内公开…（截断）",
}
# Collectors' notes written inside a cell: (domain, name, field) -> text to remove.
FIELD_STRIP: dict[tuple[str, str, str], str] = {
    ("03", "采购项目预算金额", "content"): "（九江版中为三级事项）",
    ("04", "部门预算", "basis"): "（引文）",
    # a Guangxi-only addition to the national basis
    (
        "23",
        "强制扑杀、强制免疫和养殖环节无害化处理补助",
        "basis",
    ): "、（广西另加桂农厅发〔2021〕59号）",
}
# 15 救灾: the 文昌市 table collapses the guide's levels; its second-level cells are
# 灾后救助 / 款物管理 themselves, so the item takes the first-level name.
NAME_FROM_FIRST_LEVEL: frozenset[tuple[str, str]] = frozenset(
    {("15", "灾后救助"), ("15", "款物管理")}
)
# A cell "同上" means "same as the row above" (13 公共法律服务, 梅县 page).
SAME_AS_ABOVE = "同上"

# ---------------------------------------------------------------------------
# Channels: the 13-option checklist of app.models.common.CHANNELS.
# Spelling variants listed in guides.md §3.1 map to the standard option.
# ---------------------------------------------------------------------------
NOTICE_BOARD = "社区/企事业单位/村公示栏(电子屏)"
CHANNEL_VARIANTS: dict[str, str] = {
    "发布会听证会": "发布会/听证会",
    "发布会": "发布会/听证会",
    "社区/企事业单位、村公示栏(电子屏)": NOTICE_BOARD,
    "社区/企事业单位公示栏(电子屏)": NOTICE_BOARD,
    "村居/企事业单位公示栏(电子屏)": NOTICE_BOARD,
    "社区/企事业单位/存公示栏(电子屏)": NOTICE_BOARD,
    "社区/村公示栏(电子屏)": NOTICE_BOARD,
    "社区/村公示栏": NOTICE_BOARD,
    "公示栏": NOTICE_BOARD,
    "企事业单位/村公示栏(电子屏)等": NOTICE_BOARD,
    "入户/现场宣传": "入户/现场",
    "广播电台": "广播电视",
    "政府服务中心": "政务服务中心",
    "行政服务中心": "政务服务中心",
    "公开查阅点/政务公开专区": "公开查阅点",
    "政务公开专区": "公开查阅点",
    "一微一端": "两微一端",
    "微信公众号": "两微一端",
    "政务新媒体": "两微一端",
    "纸质载体": "纸质媒体",
    "其他_": "其他",
    "其他 基层公共服务平台": "其他:基层公共服务平台",
    "其他基层公共服务平台": "其他:基层公共服务平台",
    "其他法律服务网": "其他:法律服务网",
}
# Judgement calls beyond §3.1 (documented in the README): the same standard channel
# written differently.
CHANNEL_SAME_OPTION: dict[str, str] = {
    "政府网": "政府网站",
    "政府门户网站": "政府网站",
    "区政府门户网站": "政府网站",
    "嘎查(社区)公示栏": NOTICE_BOARD,  # 嘎查 = village (Inner Mongolia)
}
# Cells that name several channels in one string.
CHANNEL_COMPOUND: dict[str, tuple[str, ...]] = {
    "政府网站/被征收范围内公告栏": ("政府网站", NOTICE_BOARD),
    "政府网站和办事大厅": ("政府网站", "政务服务中心"),
    "政府公报、政府网站、新闻发布会、报刊、广播、电视或其他便于公众知晓的方式（自由文本）": (
        "政府公报",
        "政府网站",
        "发布会/听证会",
        "纸质媒体",
        "广播电视",
        "其他:便于公众知晓的方式",
    ),
}

# ---------------------------------------------------------------------------
# Audience, method, levels.
# ---------------------------------------------------------------------------
AUDIENCE_HEADS: dict[str, str] = {
    "全社会": "全社会",
    "特定群体": "特定群体",
    "特定群众": "特定群体",
    "特定对象": "特定群体",
    "特定": "特定群体",
}
# free-text groups written in a 特定群体 cell, cleaned
AUDIENCE_GROUP_FIX: dict[str, str] = {
    "面向拟征收土地所在地的村集体成员": "拟征收土地所在地的村集体成员",
}
METHOD_VARIANTS: dict[str, str] = {
    "主动": "主动",
    "主动公开": "主动",
    "依申请": "依申请",
    "依申请公开": "依申请",
}
LEVEL_VARIANTS: dict[str, tuple[str, ...]] = {
    "县级": ("县级",),
    "区级": ("县级",),
    "县(区)级": ("县级",),
    "区县级": ("县级",),
    "乡级": ("乡级",),
    "镇级": ("乡级",),
    "街道级": ("乡级",),
    "乡镇级": ("乡级",),
    "镇(街)级": ("乡级",),
    "镇街级": ("乡级",),
    "村级": ("村级",),
    "嘎查(社区)级": ("村级",),  # 嘎查 = village
    "乡、村级": ("乡级", "村级"),
    "镇、村级": ("乡级", "村级"),
    # above county level: not a 公开层级 of a base-level catalogue; dropped.
    # 10 任务分配 "州级" comes from a 县级 table (the other rows say 县级), a mis-tick.
    "市级": (),
    "州级": (),
}

_WS = re.compile(r"\s+")
_DIGIT_SPACE = re.compile(r"\s*(\d+)\s*")


def clean_text(value: str | None, *, field: str = "") -> str | None:
    """Strip stray whitespace; empty means "not seen" -> None."""
    if value is None:
        return None
    text = _WS.sub(" ", value).strip()
    if field == "time_limit":
        text = _DIGIT_SPACE.sub(r"\1", text)
    return text or None


def split_qualified(value: str) -> tuple[str, str | None]:
    """'特定群体（申请人）' -> ('特定群体', '申请人'); also accepts 特定群体:申请人."""
    match = re.fullmatch(r"([^（(:：]+)(?:[（(](.*)[)）]|[:：](.*))?", value)
    if not match:
        return value, None
    head, group_paren, group_colon = match.groups()
    group = group_paren if group_paren is not None else group_colon
    return head.strip(), (group.strip() if group and group.strip() else None)


def norm_audience(value: str | None, stats: Counter[str]) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    head, group = split_qualified(text)
    if head not in AUDIENCE_HEADS:
        raise ValueError(f"unknown audience {text!r}")
    head = AUDIENCE_HEADS[head]
    if head == "全社会":
        result = "全社会"
    else:
        group = AUDIENCE_GROUP_FIX.get(group or "", group)
        result = f"特定群体:{group}" if group else "特定群体"
    if result != text:
        stats["audience"] += 1
    assert normalize_audience(result) == result, result
    return result


def norm_method(value: str | None, stats: Counter[str]) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    result = METHOD_VARIANTS[text]
    if result != text:
        stats["method"] += 1
    assert normalize_method(result) == result, result
    assert result in METHODS, result
    return result


def norm_levels(value: str | None, stats: Counter[str], dropped: Counter[str]) -> list[str]:
    text = clean_text(value)
    if text is None:
        return []
    chosen: list[str] = []
    for part in text.split("|"):
        part = part.strip()
        mapped = LEVEL_VARIANTS[part]
        if not mapped:
            dropped[part] += 1
        if mapped != (part,):
            stats["levels"] += 1
        chosen.extend(mapped)
    result = normalize_levels(chosen)
    assert set(result) <= set(LEVELS), result
    return result


def norm_channel(value: str, stats: Counter[str], other: Counter[str]) -> list[str]:
    text = clean_text(value)
    if text is None:
        return []
    if text in CHANNELS:
        return [text]
    stats["channels"] += 1
    if text in CHANNEL_COMPOUND:
        return list(CHANNEL_COMPOUND[text])
    if text in CHANNEL_VARIANTS:
        return [CHANNEL_VARIANTS[text]]
    if text in CHANNEL_SAME_OPTION:
        return [CHANNEL_SAME_OPTION[text]]
    head, rest = split_qualified(text)
    if head == "其他" and rest:
        return [f"其他:{rest}"]
    other[text] += 1
    return [f"其他:{text}"]


def norm_channels(values: list[str], stats: Counter[str], other: Counter[str]) -> list[str]:
    chosen: list[str] = []
    for value in values:
        chosen.extend(norm_channel(value, stats, other))
    result = normalize_channels(chosen)
    assert normalize_channels(result) == result, result
    return result


def is_truncated(value: Any) -> bool:
    if isinstance(value, str):
        return TRUNCATED in value
    if isinstance(value, list):
        return any(is_truncated(v) for v in value)
    return False


def build_domains(guides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert len(guides) == len(NOTICE_DOMAINS) == 26
    domains = []
    for index, (domain, name) in enumerate(zip(guides, NOTICE_DOMAINS, strict=True), start=1):
        code = f"{index:02d}"
        # guides.json was checked against the notice: codes, names and order agree.
        assert domain["code"] == code, (domain["code"], code)
        assert domain["name"] == name, (domain["name"], name)
        domains.append(
            {"code": code, "name": name, "is_pilot": True, "ministry": MINISTRY.get(code)}
        )
    return domains


def build_items(guides: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    stats: Counter[str] = Counter()
    other_channels: Counter[str] = Counter()
    dropped_levels: Counter[str] = Counter()
    truncated: Counter[str] = Counter()
    used_fixes: set[tuple[str, ...]] = set()
    per_domain: Counter[str] = Counter()
    first_levels: Counter[str] = Counter()
    scope_only: list[str] = []
    duplicates = 0
    items: list[dict[str, Any]] = []

    for domain in guides:
        code = domain["code"]
        position = 0
        previous: dict[str, Any] = {}
        for first in domain["first_level_items"]:
            raw_first = first["name"]
            if SCOPE_ONLY_MARK in raw_first:
                assert not first["second_level_items"], raw_first
                scope_only.append(f"{code} {raw_first}")
                continue
            first_name = FIRST_LEVEL_RENAME.get((code, raw_first), raw_first)
            if (code, raw_first) in FIRST_LEVEL_RENAME:
                used_fixes.add(("first", code, raw_first))
            first_name = clean_text(first_name)
            assert first_name
            first_levels[code] += 1
            seen: set[str] = set()
            for row in first["second_level_items"]:
                raw_name = clean_text(row["name"])
                if raw_name is None and (code, first_name) in NAME_FROM_FIRST_LEVEL:
                    used_fixes.add(("name_from_first", code, first_name))
                    raw_name = first_name
                assert raw_name, (code, first_name)
                name = SECOND_LEVEL_RENAME.get((code, raw_name), raw_name)
                if (code, raw_name) in SECOND_LEVEL_RENAME:
                    used_fixes.add(("second", code, raw_name))

                # "同上" = same as the row above (same page)
                basis = row["basis"]
                channels_raw = row["channels"]
                if basis == SAME_AS_ABOVE:
                    basis = previous["basis"]
                    stats["same_as_above"] += 1
                if channels_raw == [SAME_AS_ABOVE]:
                    channels_raw = previous["channels"]
                    stats["same_as_above"] += 1
                previous = {"basis": basis, "channels": channels_raw}

                fields = {
                    "content": row["content"],
                    "basis": basis,
                    "time_limit": row["time_limit"],
                    "responsible_body": row["subject"],
                }
                for field in fields:
                    fix = FIELD_FIX.get((code, name, field))
                    if fix is not None:
                        used_fixes.add(("field", code, name, field))
                        fields[field] = fix
                    strip = FIELD_STRIP.get((code, name, field))
                    if strip is not None:
                        assert strip in fields[field], (code, name, field)
                        used_fixes.add(("strip", code, name, field))
                        fields[field] = fields[field].replace(strip, "")
                item = {
                    "domain_code": code,
                    "first_level": first_name,
                    "name": name,
                    "content": clean_text(fields["content"]),
                    "basis": clean_text(fields["basis"]),
                    "time_limit": clean_text(fields["time_limit"], field="time_limit"),
                    "responsible_body": clean_text(fields["responsible_body"]),
                    "method": norm_method(row["method"], stats),
                    "channels": norm_channels(channels_raw, stats, other_channels),
                    "audience": norm_audience(row["audience"], stats),
                    "levels": norm_levels(row["level"], stats, dropped_levels),
                    "position": 0,
                    "source_url": clean_text(row["source_url"]),
                }
                key = json.dumps(
                    {k: v for k, v in item.items() if k != "position"},
                    ensure_ascii=False,
                    sort_keys=True,
                )
                if key in seen:  # exact duplicate within the first-level item
                    duplicates += 1
                    continue
                seen.add(key)
                position += 1
                item["position"] = position
                for field, value in item.items():
                    if is_truncated(value):
                        truncated[field] += 1
                per_domain[code] += 1
                items.append(item)

    expected = (
        {("first", c, n) for c, n in FIRST_LEVEL_RENAME}
        | {("second", c, n) for c, n in SECOND_LEVEL_RENAME}
        | {("field", *k) for k in FIELD_FIX}
        | {("strip", *k) for k in FIELD_STRIP}
        | {("name_from_first", c, n) for c, n in NAME_FROM_FIRST_LEVEL}
    )
    unused = expected - used_fixes
    assert not unused, f"correction tables out of date: {sorted(unused)}"

    report = {
        "items": len(items),
        "first_level": sum(first_levels.values()),
        "per_domain": dict(sorted(per_domain.items())),
        "first_level_per_domain": dict(sorted(first_levels.items())),
        "normalised": dict(stats),
        "other_channels": dict(other_channels),
        "dropped_levels": dict(dropped_levels),
        "truncated_values": dict(truncated),
        "truncated_total": sum(truncated.values()),
        "duplicates_removed": duplicates,
        "scope_only_first_level_skipped": len(scope_only),
    }
    return items, report


def validate_items(items: list[dict[str, Any]], domain_codes: set[str]) -> None:
    positions: dict[str, list[int]] = {}
    for item in items:
        assert item["domain_code"] in domain_codes
        assert item["name"]
        assert item["first_level"]
        if item["method"] is not None:
            assert normalize_method(item["method"]) == item["method"]
        if item["audience"] is not None:
            assert normalize_audience(item["audience"]) == item["audience"]
            assert item["audience"].split(":")[0] in AUDIENCES
        assert normalize_channels(item["channels"]) == item["channels"]
        assert normalize_levels(item["levels"]) == item["levels"]
        for field in ("content", "basis", "time_limit", "responsible_body", "source_url"):
            value = item[field]
            assert value is None or (value == value.strip() and value), (field, value)
        positions.setdefault(item["domain_code"], []).append(item["position"])
    for code, seq in positions.items():
        assert seq == list(range(1, len(seq) + 1)), code


def validate_units(units: list[dict[str, Any]]) -> Counter[str]:
    codes = [u["code"] for u in units]
    assert len(codes) == len(set(codes)), "unit codes must be unique"
    names = [(u["parent_code"], u["name"]) for u in units]
    assert len(names) == len(set(names)), "duplicate unit under one parent"
    by_code = {u["code"]: u for u in units}
    kinds: Counter[str] = Counter()
    for unit in units:
        kinds[unit["kind"]] += 1
        assert unit["source"], unit
        if unit["kind"] == "city":
            assert unit["parent_code"] is None
            assert re.fullmatch(r"\d{6}", unit["code"])
        elif unit["kind"] == "district":
            assert by_code[unit["parent_code"]]["kind"] == "city"
            assert re.fullmatch(r"\d{6}", unit["code"])
        else:
            parent = by_code[unit["parent_code"]]
            assert parent["kind"] == "district"
            assert re.fullmatch(r"\d{9}", unit["code"])
            assert unit["code"][:6] == parent["code"]
            # 统计用区划代码: 0xx = 街道, 1xx = 镇
            suffix = unit["code"][6]
            if unit["kind"] == "street":
                assert unit["name"].endswith("街道"), unit
                assert suffix == "0", unit
            else:
                assert unit["kind"] == "town", unit
                assert unit["name"].endswith("镇"), unit
                assert suffix == "1", unit
    assert kinds == Counter(city=1, district=6, street=26, town=12), kinds
    return kinds


def validate_milestones(milestones: list[dict[str, Any]]) -> None:
    assert [m["code"] for m in milestones] == ["opinions", "compiled", "published", "completed"]
    dues = [m["due_on"] for m in milestones]
    assert dues == ["2020-07-25", "2020-10-31", "2020-11-10", "2021-12-31"], dues
    for milestone in milestones:
        assert milestone["domains"] in ("pilot", "all")
        assert set(milestone["unit_kinds"]) <= {"city", "district", "street", "town"}


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    guides = json.loads((SHARED / "guides.json").read_text(encoding="utf-8"))
    domains = build_domains(guides)
    items, report = build_items(guides)
    validate_items(items, {d["code"] for d in domains})
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / "domains.json", domains)
    write_json(OUT / "guide_items.json", items)

    units = json.loads((OUT / "units.json").read_text(encoding="utf-8"))
    report["units"] = dict(validate_units(units))
    milestones = json.loads((OUT / "milestones.json").read_text(encoding="utf-8"))
    validate_milestones(milestones)
    report["domains"] = len(domains)
    report["domains_with_ministry"] = sum(d["ministry"] is not None for d in domains)
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
